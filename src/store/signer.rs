//! Who signs: the clinician's name from the config, else the OS user.

use std::ffi::CStr;

/// The name written on signed documents and in the audit log.
pub fn signer_name(config: &crate::config::Config) -> String {
    config
        .clinician_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .unwrap_or_else(os_user_name)
}

/// The login name of the real user (passwd entry), else `$USER`, else `uid <n>`.
pub fn os_user_name() -> String {
    passwd_name()
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.trim().is_empty()))
        .unwrap_or_else(|| format!("uid {}", current_uid()))
}

pub fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

fn passwd_name() -> Option<String> {
    let uid = current_uid();
    let mut buf = vec![0u8; 4096];
    // SAFETY: an all-zero passwd is a valid value for getpwuid_r to overwrite.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer refers to live, correctly sized storage owned by this frame;
    // the strings written into `buf` outlive their use below.
    let rc = unsafe {
        libc::getpwuid_r(
            uid,
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
        return None;
    }
    // SAFETY: getpwuid_r succeeded, so pw_name points to a NUL-terminated string in `buf`.
    let name = unsafe { CStr::from_ptr(pwd.pw_name) };
    let name = name.to_string_lossy().trim().to_string();
    (!name.is_empty()).then_some(name)
}

/// The host name (for lock files).
pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success
    // (we also stop at its end if it did not).
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown-host".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn config_name_wins_else_os_user() {
        let mut config = Config::default();
        assert_eq!(signer_name(&config), os_user_name());
        assert!(!os_user_name().is_empty());
        config.clinician_name = Some(" 山田 花子 ".into());
        assert_eq!(signer_name(&config), "山田 花子");
        config.clinician_name = Some("  ".into());
        assert_eq!(signer_name(&config), os_user_name());
        assert!(!host_name().is_empty());
    }
}
