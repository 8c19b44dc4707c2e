//! Checks a GGUF file before llama.cpp opens it: magic, version, every metadata entry,
//! every tensor's type and extent against the file size. llama.cpp aborts the process on
//! some malformed files, so nothing reaches it that this reader has not walked through.
//! The few metadata values karte shows (name, architecture, trained context, chat
//! template) are read along the way.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use super::error::LlmError;

const GGUF_MAGIC: &[u8; 4] = b"GGUF";
const DEFAULT_ALIGNMENT: u64 = 32;
/// No real key or tensor name is longer; a larger length means a corrupt header.
const MAX_NAME_BYTES: u64 = 64 * 1024;
/// Chat templates and token strings stay far below this.
const MAX_STRING_BYTES: u64 = 16 * 1024 * 1024;
const MAX_DIMS: u32 = 4;

/// What karte learns from a GGUF header.
#[derive(Debug, Clone, PartialEq)]
pub struct GgufSummary {
    pub path: PathBuf,
    pub file_size: u64,
    pub version: u32,
    pub architecture: Option<String>,
    pub name: Option<String>,
    pub context_length: Option<u64>,
    pub chat_template: Option<String>,
    pub tensor_count: u64,
    /// Bytes of tensor data the header describes (its end lies within the file).
    pub tensor_data_bytes: u64,
    /// Where the file's parts lie, for tools that rewrite metadata.
    pub layout: GgufLayout,
}

/// Byte offsets of a GGUF file's parts: header (magic, version, counts), metadata entries,
/// tensor infos, then the tensor data at the next multiple of `alignment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GgufLayout {
    pub metadata_count: u64,
    pub metadata_start: u64,
    pub metadata_end: u64,
    /// The tensor infos end here (before the alignment padding).
    pub tensor_infos_end: u64,
    pub alignment: u64,
    pub data_start: u64,
}

/// Walks the whole header of `path` and checks every tensor lies inside the file.
pub fn check_gguf(path: &Path) -> Result<GgufSummary, LlmError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(LlmError::ModelMissing {
                path: path.to_path_buf(),
            })
        }
        Err(e) => {
            return Err(LlmError::ModelUnreadable {
                path: path.to_path_buf(),
                message: e.to_string(),
            })
        }
    };
    let meta = file.metadata().map_err(|e| LlmError::ModelUnreadable {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if meta.is_dir() {
        return Err(LlmError::NotGguf {
            path: path.to_path_buf(),
            detail: "it is a directory".into(),
        });
    }
    let mut reader = HeaderReader {
        inner: BufReader::with_capacity(1 << 16, file),
        pos: 0,
        file_size: meta.len(),
        path: path.to_path_buf(),
    };
    reader.read_header()
}

struct HeaderReader {
    inner: BufReader<File>,
    pos: u64,
    file_size: u64,
    path: PathBuf,
}

/// A metadata value karte keeps; everything else is skipped after checking its bounds.
enum Value {
    Str(String),
    Uint(u64),
    Other,
}

impl HeaderReader {
    fn truncated(&self, what: &str) -> LlmError {
        LlmError::TruncatedGguf {
            path: self.path.clone(),
            detail: format!(
                "the file ends ({} bytes) inside the header, while reading {what}",
                self.file_size
            ),
        }
    }

    fn corrupt(&self, detail: String) -> LlmError {
        LlmError::CorruptGguf {
            path: self.path.clone(),
            detail,
        }
    }

    fn bytes(&mut self, n: u64, what: &str) -> Result<Vec<u8>, LlmError> {
        if self.file_size.saturating_sub(self.pos) < n {
            return Err(self.truncated(what));
        }
        let mut buf = vec![0u8; n as usize];
        self.inner
            .read_exact(&mut buf)
            .map_err(|_| self.truncated(what))?;
        self.pos += n;
        Ok(buf)
    }

    fn skip(&mut self, n: u64, what: &str) -> Result<(), LlmError> {
        if self.file_size.saturating_sub(self.pos) < n {
            return Err(self.truncated(what));
        }
        let offset = i64::try_from(n).map_err(|_| self.truncated(what))?;
        self.inner
            .seek_relative(offset)
            .map_err(|_| self.truncated(what))?;
        self.pos += n;
        Ok(())
    }

    fn u32(&mut self, what: &str) -> Result<u32, LlmError> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &str) -> Result<u64, LlmError> {
        let b = self.bytes(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(&b);
        Ok(u64::from_le_bytes(a))
    }

    fn string(&mut self, max: u64, what: &str) -> Result<String, LlmError> {
        let len = self.u64(what)?;
        if len > max {
            return Err(self.corrupt(format!("{what} claims a length of {len} bytes")));
        }
        let bytes = self.bytes(len, what)?;
        String::from_utf8(bytes).map_err(|_| self.corrupt(format!("{what} is not UTF-8")))
    }

    fn skip_string(&mut self, what: &str) -> Result<(), LlmError> {
        let len = self.u64(what)?;
        if len > MAX_STRING_BYTES {
            return Err(self.corrupt(format!("{what} claims a length of {len} bytes")));
        }
        self.skip(len, what)
    }

    /// Size in bytes of a fixed-size GGUF value type, `None` for string/array.
    fn scalar_size(type_id: u32) -> Option<u64> {
        match type_id {
            0 | 1 | 7 => Some(1), // u8, i8, bool
            2 | 3 => Some(2),     // u16, i16
            4..=6 => Some(4),     // u32, i32, f32
            10..=12 => Some(8),   // u64, i64, f64
            _ => None,
        }
    }

    fn value(&mut self, type_id: u32, key: &str) -> Result<Value, LlmError> {
        match type_id {
            8 => Ok(Value::Str(self.string(MAX_STRING_BYTES, key)?)),
            4 => Ok(Value::Uint(u64::from(self.u32(key)?))),
            10 => Ok(Value::Uint(self.u64(key)?)),
            9 => {
                let elem_type = self.u32(key)?;
                let count = self.u64(key)?;
                let remaining = self.file_size.saturating_sub(self.pos);
                match Self::scalar_size(elem_type) {
                    Some(size) => {
                        let total = count.checked_mul(size).filter(|t| *t <= remaining);
                        let total = total.ok_or_else(|| self.truncated(key))?;
                        self.skip(total, key)?;
                    }
                    None if elem_type == 8 => {
                        // Each string needs at least its 8-byte length.
                        if count > remaining / 8 {
                            return Err(self.truncated(key));
                        }
                        for _ in 0..count {
                            self.skip_string(key)?;
                        }
                    }
                    None => {
                        return Err(self.corrupt(format!(
                            "metadata array {key} has element type {elem_type}, which GGUF does not define for arrays"
                        )))
                    }
                }
                Ok(Value::Other)
            }
            t => match Self::scalar_size(t) {
                Some(size) => {
                    self.skip(size, key)?;
                    Ok(Value::Other)
                }
                None => Err(self.corrupt(format!(
                    "metadata {key} has value type {t}, which GGUF does not define"
                ))),
            },
        }
    }

    fn read_header(&mut self) -> Result<GgufSummary, LlmError> {
        if self.file_size < 4 {
            return Err(LlmError::NotGguf {
                path: self.path.clone(),
                detail: format!("the file has only {} bytes", self.file_size),
            });
        }
        let magic = self.bytes(4, "the magic number")?;
        if magic.as_slice() != GGUF_MAGIC {
            return Err(LlmError::NotGguf {
                path: self.path.clone(),
                detail: format!(
                    "it starts with {:?} instead of \"GGUF\"",
                    String::from_utf8_lossy(&magic)
                ),
            });
        }
        let version = self.u32("the version")?;
        if !(2..=3).contains(&version) {
            return Err(self.corrupt(format!(
                "GGUF version {version} is not supported (2 or 3 expected)"
            )));
        }
        let tensor_count = self.u64("the tensor count")?;
        let kv_count = self.u64("the metadata count")?;
        // Each metadata entry and tensor takes well over 8 bytes of header.
        let remaining = self.file_size.saturating_sub(self.pos);
        if kv_count > remaining / 8 || tensor_count > remaining / 8 {
            return Err(self.truncated("the metadata and tensor tables"));
        }

        let mut summary = GgufSummary {
            path: self.path.clone(),
            file_size: self.file_size,
            version,
            architecture: None,
            name: None,
            context_length: None,
            chat_template: None,
            tensor_count,
            tensor_data_bytes: 0,
            layout: GgufLayout {
                metadata_count: kv_count,
                metadata_start: self.pos,
                ..GgufLayout::default()
            },
        };
        let mut alignment = DEFAULT_ALIGNMENT;
        let mut context_lengths: Vec<(String, u64)> = Vec::new();
        for _ in 0..kv_count {
            let key = self.string(MAX_NAME_BYTES, "a metadata key")?;
            let type_id = self.u32(&key)?;
            let value = self.value(type_id, &key)?;
            match (key.as_str(), value) {
                ("general.architecture", Value::Str(s)) => summary.architecture = Some(s),
                ("general.name", Value::Str(s)) => summary.name = Some(s),
                ("tokenizer.chat_template", Value::Str(s)) => summary.chat_template = Some(s),
                ("general.alignment", Value::Uint(a)) => alignment = a,
                (k, Value::Uint(n)) if k.ends_with(".context_length") => {
                    context_lengths.push((k.to_string(), n))
                }
                _ => {}
            }
        }
        if alignment == 0 || !alignment.is_power_of_two() {
            return Err(self.corrupt(format!("general.alignment is {alignment}")));
        }
        summary.layout.metadata_end = self.pos;
        summary.layout.alignment = alignment;
        if let Some(arch) = &summary.architecture {
            let key = format!("{arch}.context_length");
            summary.context_length = context_lengths
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, n)| *n);
        }

        let mut extents: Vec<(String, u64, u64)> = Vec::new();
        for _ in 0..tensor_count {
            let name = self.string(MAX_NAME_BYTES, "a tensor name")?;
            let n_dims = self.u32(&name)?;
            if n_dims == 0 || n_dims > MAX_DIMS {
                return Err(self.corrupt(format!("tensor {name} has {n_dims} dimensions")));
            }
            let mut elements: u64 = 1;
            let mut first_dim = 0;
            for d in 0..n_dims {
                let n = self.u64(&name)?;
                if d == 0 {
                    first_dim = n;
                }
                elements = elements
                    .checked_mul(n)
                    .ok_or_else(|| self.corrupt(format!("tensor {name} has absurd dimensions")))?;
            }
            let type_id = self.u32(&name)?;
            let offset = self.u64(&name)?;
            let bytes = tensor_bytes(type_id, elements, first_dim).ok_or_else(|| {
                self.corrupt(format!(
                    "tensor {name} has type {type_id} or a shape that ggml does not support"
                ))
            })?;
            if !offset.is_multiple_of(alignment) {
                return Err(self.corrupt(format!(
                    "tensor {name} starts at offset {offset}, not a multiple of {alignment}"
                )));
            }
            extents.push((name, offset, bytes));
        }

        let data_start = self.pos.div_ceil(alignment) * alignment;
        summary.layout.tensor_infos_end = self.pos;
        summary.layout.data_start = data_start;
        let data_available = self.file_size.saturating_sub(data_start);
        let mut data_end = 0u64;
        for (name, offset, bytes) in &extents {
            let end = offset
                .checked_add(*bytes)
                .ok_or_else(|| self.corrupt(format!("tensor {name} has an absurd offset")))?;
            if end > data_available {
                return Err(LlmError::TruncatedGguf {
                    path: self.path.clone(),
                    detail: format!(
                        "tensor {name} needs the file to be at least {} bytes, but it has {}",
                        // A corrupt offset near u64::MAX: no overflow, in the message either.
                        data_start.saturating_add(end),
                        self.file_size
                    ),
                });
            }
            data_end = data_end.max(end);
        }
        summary.tensor_data_bytes = data_end;
        Ok(summary)
    }
}

/// Bytes of a tensor of `elements` elements of ggml type `type_id`, from ggml's own type
/// table; `None` for types ggml does not know (or removed) and rows not made of whole blocks.
fn tensor_bytes(type_id: u32, elements: u64, first_dim: u64) -> Option<u64> {
    if type_id >= llama_cpp_sys_2::GGML_TYPE_COUNT {
        return None;
    }
    // SAFETY: the type id is below GGML_TYPE_COUNT, the bounds of ggml's type table.
    let (block, size) = unsafe {
        (
            llama_cpp_sys_2::ggml_blck_size(type_id as _),
            llama_cpp_sys_2::ggml_type_size(type_id as _),
        )
    };
    let block = u64::try_from(block).ok().filter(|b| *b > 0)?;
    let size = u64::try_from(size).ok().filter(|s| *s > 0)?;
    if !first_dim.is_multiple_of(block) {
        return None;
    }
    (elements / block).checked_mul(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gguf_string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u64).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }

    /// A minimal valid GGUF: one string metadata entry and one f32 tensor of 8 elements.
    fn tiny_gguf() -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(b"GGUF");
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&1u64.to_le_bytes()); // tensors
        out.extend_from_slice(&2u64.to_le_bytes()); // kv
        gguf_string(&mut out, "general.architecture");
        out.extend_from_slice(&8u32.to_le_bytes());
        gguf_string(&mut out, "tiny");
        gguf_string(&mut out, "tiny.context_length");
        out.extend_from_slice(&4u32.to_le_bytes());
        out.extend_from_slice(&128u32.to_le_bytes());
        gguf_string(&mut out, "w");
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&8u64.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // F32
        out.extend_from_slice(&0u64.to_le_bytes());
        while out.len() % 32 != 0 {
            out.push(0);
        }
        out.extend_from_slice(&[0u8; 32]);
        out
    }

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(bytes)
            .unwrap();
        path
    }

    #[test]
    fn a_valid_header_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let s = check_gguf(&write(&dir, "ok.gguf", &tiny_gguf())).unwrap();
        assert_eq!(s.architecture.as_deref(), Some("tiny"));
        assert_eq!(s.context_length, Some(128));
        assert_eq!(s.tensor_data_bytes, 32);
    }

    #[test]
    fn every_cut_of_the_file_is_reported_never_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = tiny_gguf();
        for len in 0..bytes.len() {
            let path = write(&dir, "cut.gguf", &bytes[..len]);
            let err = check_gguf(&path).unwrap_err();
            assert!(
                matches!(
                    err,
                    LlmError::TruncatedGguf { .. } | LlmError::NotGguf { .. }
                ),
                "{len}: {err}"
            );
        }
    }

    #[test]
    fn wrong_magic_version_and_lengths_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = check_gguf(&write(&dir, "a.gguf", b"PK\x03\x04 zip file")).unwrap_err();
        assert!(matches!(err, LlmError::NotGguf { .. }), "{err}");
        let mut bad_version = tiny_gguf();
        bad_version[4] = 9;
        let err = check_gguf(&write(&dir, "v.gguf", &bad_version)).unwrap_err();
        assert!(err.to_string().contains("version 9"), "{err}");
        let mut huge_key = tiny_gguf();
        huge_key[24..32].copy_from_slice(&u64::MAX.to_le_bytes());
        let err = check_gguf(&write(&dir, "k.gguf", &huge_key)).unwrap_err();
        assert!(matches!(err, LlmError::CorruptGguf { .. }), "{err}");
        let err = check_gguf(&dir.path().join("missing.gguf")).unwrap_err();
        assert!(matches!(err, LlmError::ModelMissing { .. }), "{err}");
    }
}
