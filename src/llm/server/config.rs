//! The server engine's settings, checked before any request: the URL (and whether plain
//! `http://` is allowed to that host), the API key file (mode 0600 or stricter), the CA file.

use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::llm::error::LlmError;
use crate::llm::settings::LlmSettings;

/// `[llm] server` and its companions, as configured (nothing read from disk yet).
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSettings {
    pub url: String,
    pub model: Option<String>,
    pub api_key_file: Option<PathBuf>,
    pub ca_file: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub first_token_timeout: Duration,
    pub idle_timeout: Duration,
    pub allow_insecure_http: bool,
    /// Attempts after a 429/503 answer before giving up (backoff 1, 2, 4, 8 s or the
    /// server's `Retry-After`).
    pub busy_retries: u32,
}

impl ServerSettings {
    pub const DEFAULT_CONNECT_S: f64 = 5.0;
    pub const DEFAULT_FIRST_TOKEN_S: f64 = 120.0;
    pub const DEFAULT_IDLE_S: f64 = 30.0;

    /// `None` when no server is configured (the embedded engine runs).
    pub fn from_settings(settings: &LlmSettings) -> Option<Self> {
        let url = settings.server.as_ref()?.trim().to_string();
        let secs = |v: Option<f64>, default: f64| {
            Duration::from_secs_f64(v.filter(|s| s.is_finite() && *s > 0.0).unwrap_or(default))
        };
        Some(Self {
            url,
            model: settings.model.clone().filter(|m| !m.trim().is_empty()),
            api_key_file: settings.api_key_file.clone(),
            ca_file: settings.ca_file.clone(),
            connect_timeout: secs(settings.connect_timeout_s, Self::DEFAULT_CONNECT_S),
            first_token_timeout: secs(settings.first_token_timeout_s, Self::DEFAULT_FIRST_TOKEN_S),
            idle_timeout: secs(settings.idle_timeout_s, Self::DEFAULT_IDLE_S),
            allow_insecure_http: settings.allow_insecure_http.unwrap_or(false),
            busy_retries: 4,
        })
    }

    pub fn new(url: &str) -> Self {
        let settings = LlmSettings {
            server: Some(url.to_string()),
            ..LlmSettings::default()
        };
        Self::from_settings(&settings).unwrap_or_else(|| unreachable!("server is set"))
    }
}

/// The API key. Its `Debug` never shows it.
#[derive(Clone, PartialEq)]
pub struct ApiKey(String);

impl ApiKey {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Settings checked and files read: ready to build HTTP clients from.
#[derive(Debug, Clone)]
pub struct CheckedServer {
    pub settings: ServerSettings,
    /// The base URL without a trailing slash, and without a trailing `/v1` (added per call).
    pub base: reqwest::Url,
    /// What messages show: scheme, host and port only.
    pub display: String,
    pub api_key: Option<ApiKey>,
    pub ca_certificates: Vec<reqwest::Certificate>,
}

fn config_error(detail: String) -> LlmError {
    LlmError::ServerConfig { detail }
}

/// Checks `settings` and reads the key and CA files.
pub fn check(settings: &ServerSettings) -> Result<CheckedServer, LlmError> {
    let mut base = reqwest::Url::parse(&settings.url).map_err(|e| {
        config_error(format!(
            "[llm] server = \"{}\" は URL ではありません ({e})。例: \"http://127.0.0.1:8081\"",
            settings.url
        ))
    })?;
    let secure = match base.scheme() {
        "https" => true,
        "http" => false,
        other => {
            return Err(config_error(format!(
                "[llm] server の方式 {other}: は使えません。http:// か https:// を指定してください"
            )))
        }
    };
    let host = base.host_str().unwrap_or_default().to_string();
    if host.is_empty() {
        return Err(config_error(format!(
            "[llm] server = \"{}\" にホスト名がありません",
            settings.url
        )));
    }
    if !secure && !is_loopback(&host) && !settings.allow_insecure_http {
        return Err(config_error(format!(
            "[llm] server = \"{}\" は暗号化されない http:// で別のホストに患者情報を送ります。\
             https:// (TLS) にするか、閉じた院内網で承知のうえなら allow_insecure_http = true を設定してください",
            settings.url
        )));
    }
    if !base.username().is_empty() || base.password().is_some() {
        return Err(config_error(
            "[llm] server の URL に利用者名やパスワードを書かないでください。API キーは api_key_file に置きます"
                .to_string(),
        ));
    }
    base.set_query(None);
    base.set_fragment(None);
    let path = base.path().trim_end_matches('/').to_string();
    let path = path.strip_suffix("/v1").unwrap_or(&path).to_string();
    base.set_path(&path);
    let display = match base.port() {
        Some(port) => format!("{}://{}:{port}", base.scheme(), host),
        None => format!("{}://{}", base.scheme(), host),
    };
    let api_key = settings
        .api_key_file
        .as_deref()
        .map(read_api_key)
        .transpose()?;
    let ca_certificates = match settings.ca_file.as_deref() {
        Some(path) => read_ca_file(path)?,
        None => Vec::new(),
    };
    Ok(CheckedServer {
        settings: settings.clone(),
        base,
        display,
        api_key,
        ca_certificates,
    })
}

/// `localhost`, 127.0.0.0/8 or ::1.
pub fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn read_api_key(path: &Path) -> Result<ApiKey, LlmError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        config_error(format!(
            "API キーのファイル {} を読めません ({e})。[llm] api_key_file を確認してください",
            path.display()
        ))
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(config_error(format!(
            "API キーのファイル {} は他の利用者も読めます (mode {mode:o})。chmod 600 {} を実行してください",
            path.display(),
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        config_error(format!(
            "API キーのファイル {} を読めません ({e})",
            path.display()
        ))
    })?;
    let key = text.trim();
    if key.is_empty() || key.contains(char::is_whitespace) || key.chars().any(char::is_control) {
        return Err(config_error(format!(
            "API キーのファイル {} にキーが 1 つだけ書かれていません (空か、空白を含みます)",
            path.display()
        )));
    }
    Ok(ApiKey(key.to_string()))
}

fn read_ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>, LlmError> {
    let pem = std::fs::read(path).map_err(|e| {
        config_error(format!(
            "CA 証明書ファイル {} を読めません ({e})。[llm] ca_file を確認してください",
            path.display()
        ))
    })?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        config_error(format!(
            "CA 証明書ファイル {} は PEM 証明書ではありません ({e})",
            path.display()
        ))
    })?;
    if certificates.is_empty() {
        return Err(config_error(format!(
            "CA 証明書ファイル {} に証明書がありません",
            path.display()
        )));
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn settings(url: &str) -> ServerSettings {
        ServerSettings::new(url)
    }

    #[test]
    fn plain_http_is_only_for_loopback_unless_allowed() {
        for url in [
            "http://127.0.0.1:8081",
            "http://localhost:8081/",
            "http://[::1]:8081/v1",
            "http://127.0.0.2:9000",
            "https://llm.hospital.example:8443",
        ] {
            assert!(check(&settings(url)).is_ok(), "{url}");
        }
        let remote = settings("http://10.0.0.5:8081");
        let err = check(&remote).unwrap_err().to_string();
        assert!(err.contains("allow_insecure_http"), "{err}");
        let mut allowed = remote.clone();
        allowed.allow_insecure_http = true;
        assert!(check(&allowed).is_ok());
        assert!(check(&settings("ftp://127.0.0.1")).is_err());
        assert!(check(&settings("127.0.0.1:8081")).is_err());
        assert!(check(&settings("http://user:pw@127.0.0.1:8081")).is_err());
    }

    #[test]
    fn the_base_url_loses_a_trailing_v1_and_slash() {
        let c = check(&settings("http://127.0.0.1:8081/v1/")).unwrap();
        assert_eq!(c.base.as_str(), "http://127.0.0.1:8081/");
        assert_eq!(c.display, "http://127.0.0.1:8081");
        let c = check(&settings("https://h.example/llm/v1")).unwrap();
        assert_eq!(c.base.path(), "/llm");
    }

    #[test]
    fn the_key_file_must_be_private_and_the_key_is_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "sk-secret-123\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut s = settings("http://127.0.0.1:8081");
        s.api_key_file = Some(path.clone());
        let err = check(&s).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        assert!(!err.contains("sk-secret"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let checked = check(&s).unwrap();
        assert_eq!(checked.api_key.as_ref().unwrap().expose(), "sk-secret-123");
        assert!(!format!("{checked:?}").contains("sk-secret"));
        std::fs::write(&path, "two keys\n").unwrap();
        assert!(check(&s).is_err());
        s.api_key_file = Some(dir.path().join("missing"));
        assert!(check(&s).unwrap_err().to_string().contains("missing"));
    }

    #[test]
    fn a_ca_file_that_is_not_pem_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate").unwrap();
        let mut s = settings("https://llm.example");
        s.ca_file = Some(path);
        let err = check(&s).unwrap_err().to_string();
        assert!(err.contains("ca.pem"), "{err}");
    }

    #[test]
    fn timeouts_come_from_the_config_or_the_defaults() {
        let config: LlmSettings = toml::from_str(
            "server = \"http://127.0.0.1:1\"\nidle_timeout_s = 2.5\nfirst_token_timeout_s = -1",
        )
        .unwrap();
        let s = ServerSettings::from_settings(&config).unwrap();
        assert_eq!(s.idle_timeout, Duration::from_millis(2500));
        assert_eq!(
            s.first_token_timeout,
            Duration::from_secs_f64(ServerSettings::DEFAULT_FIRST_TOKEN_S)
        );
        assert!(ServerSettings::from_settings(&LlmSettings::default()).is_none());
    }
}
