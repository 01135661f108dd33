//! The files a user writes — scenarios, manifests, patches, transcripts — read as text, and the
//! located error every problem in them becomes.
//!
//! Text is read as kubectl reads a manifest (`cli-runtime`'s file visitor decodes through
//! `unicode.BOMOverride`): a UTF-8 byte order mark is dropped, and a UTF-16 one selects UTF-16.
//! Line breaks are YAML's (`\r\n`, `\n` and a lone `\r`), so a file saved with old Mac line
//! endings reads line by line as it looks. What cannot be read this way is an error naming the
//! file, line and column, never a file silently left out.

use std::path::{Path, PathBuf};

/// A problem in an input file, located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", file.display())]
pub struct InputError {
    /// The file.
    pub file: PathBuf,
    /// Line, from 1 (0 when unknown).
    pub line: u64,
    /// Column, from 1 (0 when unknown).
    pub column: u64,
    /// What is wrong.
    pub message: String,
}

impl InputError {
    /// An error at a known place.
    pub fn at(file: &Path, line: u64, column: u64, message: impl Into<String>) -> Self {
        Self { file: file.to_owned(), line, column, message: message.into() }
    }

    /// An error from the YAML parser, its location shifted by `line_offset` (the document's
    /// first line within the file, minus one).
    pub fn from_yaml(file: &Path, line_offset: u64, error: &serde_saphyr::Error) -> Self {
        let (line, column) = error.location().map_or((0, 0), |l| (l.line() + line_offset, l.column()));
        Self { file: file.to_owned(), line, column, message: yaml_message(error) }
    }
}

/// The parser's message without the source snippet it renders under it.
fn yaml_message(error: &serde_saphyr::Error) -> String {
    let text = error.to_string();
    let first = text.lines().next().unwrap_or("invalid YAML").trim();
    // Drop a trailing " at line X, column Y" the renderer may add: the caller prints the place.
    match first.find(" at line ") {
        Some(i) => first[..i].to_owned(),
        None => first.to_owned(),
    }
}

/// Reads a text file the user named.
///
/// # Errors
/// The path does not exist, is not a regular file (a directory, device, FIFO or socket, which
/// could block or never end), cannot be read, or is not text per [`decode`].
pub fn read(path: &Path) -> Result<String, InputError> {
    regular_file(path)?;
    let bytes = std::fs::read(path).map_err(|e| InputError::at(path, 0, 0, format!("cannot read: {e}")))?;
    decode(path, &bytes)
}

/// That `path` is a regular file, or the located error a user can act on.
///
/// # Errors
/// The path does not exist, cannot be inspected, or is a directory, device, FIFO or socket.
pub fn regular_file(path: &Path) -> Result<(), InputError> {
    let error = |message: String| InputError::at(path, 0, 0, message);
    let metadata = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => error("no such file or directory".into()),
        _ => error(format!("cannot read: {e}")),
    })?;
    if metadata.is_dir() {
        return Err(error("is a directory, not a file".into()));
    }
    if !metadata.is_file() {
        return Err(error("is not a regular file (a device, FIFO or socket)".into()));
    }
    Ok(())
}

/// Decodes a file's bytes: UTF-8, or UTF-16 after its byte order mark; line breaks become `\n`.
///
/// # Errors
/// Bytes that are not valid in the encoding, located at their line and column.
pub fn decode(path: &Path, bytes: &[u8]) -> Result<String, InputError> {
    let text = match utf16_order(bytes) {
        Some(big_endian) => {
            let units = utf16_units(&bytes[2..], big_endian);
            let mut text = String::with_capacity(units.len());
            for (i, c) in char::decode_utf16(units).enumerate() {
                match c {
                    Ok(c) => text.push(c),
                    Err(_) => {
                        let (line, column) = position(&text);
                        return Err(InputError::at(
                            path,
                            line,
                            column,
                            format!("invalid UTF-16 (an unpaired surrogate at byte {}); save the file as UTF-8", 2 + 2 * i),
                        ));
                    }
                }
            }
            if bytes.len() % 2 == 1 {
                let (line, column) = position(&text);
                return Err(InputError::at(
                    path,
                    line,
                    column,
                    "invalid UTF-16 (an odd number of bytes); save the file as UTF-8",
                ));
            }
            text
        }
        None => {
            let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
            match std::str::from_utf8(bytes) {
                Ok(text) => text.to_owned(),
                Err(e) => {
                    let valid = &bytes[..e.valid_up_to()];
                    // The prefix is valid UTF-8 by the error's own account.
                    let (line, column) = position(std::str::from_utf8(valid).unwrap_or_default());
                    let byte = bytes[e.valid_up_to()];
                    return Err(InputError::at(
                        path,
                        line,
                        column,
                        format!("invalid UTF-8 (byte 0x{byte:02x}); save the file as UTF-8"),
                    ));
                }
            }
        }
    };
    Ok(normalize_line_breaks(text))
}

/// Decodes a transcript's bytes as [`decode`] does, but never fails: a byte that is not
/// UTF-8 becomes U+FFFD, so a garbled line is kept (and reported as not kubectl output) while
/// the rest is read.
#[must_use]
pub fn decode_lossy(bytes: &[u8]) -> String {
    let text = match utf16_order(bytes) {
        Some(big_endian) => String::from_utf16_lossy(&utf16_units(&bytes[2..], big_endian)),
        None => String::from_utf8_lossy(bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes)).into_owned(),
    };
    normalize_line_breaks(text)
}

const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// `Some(big_endian)` when the bytes begin with a UTF-16 byte order mark.
fn utf16_order(bytes: &[u8]) -> Option<bool> {
    match bytes {
        [0xfe, 0xff, ..] => Some(true),
        [0xff, 0xfe, ..] => Some(false),
        _ => None,
    }
}

fn utf16_units(bytes: &[u8], big_endian: bool) -> Vec<u16> {
    bytes
        .chunks_exact(2)
        .map(|pair| if big_endian { u16::from_be_bytes([pair[0], pair[1]]) } else { u16::from_le_bytes([pair[0], pair[1]]) })
        .collect()
}

/// The 1-based line and column just after `prefix`.
fn position(prefix: &str) -> (u64, u64) {
    let line = prefix.bytes().filter(|b| matches!(b, b'\n' | b'\r')).count() as u64 - prefix.matches("\r\n").count() as u64;
    let last = prefix.rfind(['\n', '\r']).map_or(prefix, |i| &prefix[i + 1..]);
    (line + 1, last.chars().count() as u64 + 1)
}

/// `\r\n` and a lone `\r` become `\n`.
fn normalize_line_breaks(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(bytes: &[u8]) -> Result<String, InputError> {
        decode(Path::new("f.yaml"), bytes)
    }

    #[test]
    fn utf8_with_or_without_a_byte_order_mark() {
        assert_eq!(decoded(b"kind: Scenario\n").unwrap(), "kind: Scenario\n");
        assert_eq!(decoded(b"\xef\xbb\xbfkind: Scenario\n").unwrap(), "kind: Scenario\n");
    }

    #[test]
    fn utf16_after_its_byte_order_mark() {
        let text = "kind: Scenario\nname: 웹\n";
        let le: Vec<u8> = [0xff, 0xfe].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
        let be: Vec<u8> = [0xfe, 0xff].into_iter().chain(text.encode_utf16().flat_map(u16::to_be_bytes)).collect();
        assert_eq!(decoded(&le).unwrap(), text);
        assert_eq!(decoded(&be).unwrap(), text);
        assert_eq!(decode_lossy(&le), text);
        let mut odd = le.clone();
        odd.push(b'x');
        assert!(decoded(&odd).unwrap_err().message.contains("odd number of bytes"));
        let unpaired: Vec<u8> = [0xff, 0xfe, b'a', 0, b'\n', 0, 0x00, 0xd8, b'b', 0].to_vec();
        let error = decoded(&unpaired).unwrap_err();
        assert_eq!((error.line, error.column), (2, 1), "{error}");
    }

    #[test]
    fn invalid_utf8_is_located() {
        let error = decoded(b"a: 1\nb: x\xffy\n").unwrap_err();
        assert_eq!(error.to_string(), "f.yaml:2:5: invalid UTF-8 (byte 0xff); save the file as UTF-8");
        assert_eq!(decode_lossy(b"a\nb\xff\n"), "a\nb\u{fffd}\n");
    }

    #[test]
    fn every_line_break_becomes_a_newline() {
        assert_eq!(decoded(b"a\r\nb\rc\n").unwrap(), "a\nb\nc\n");
        let error = decoded(b"a\r\nb\rc: \xff").unwrap_err();
        assert_eq!((error.line, error.column), (3, 4), "{error}");
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(dir.path()).unwrap_err().message.contains("is a directory"));
        assert!(read(Path::new("/dev/null")).unwrap_err().message.contains("not a regular file"));
        assert!(read(&dir.path().join("missing.yaml")).unwrap_err().message.contains("no such file"));
    }
}
