use serde::{Deserialize, Serialize};

use super::ids::{FileId, TaskId, UserId};
use super::text::{stored_string_conversions, string_conversions, trimmed_line};
use super::time::Timestamp;
use crate::ports::ObjectKey;

/// A file's name as the user gave it: metadata only, never part of a storage key.
/// One line of 1 to 255 characters (`text::trimmed_line`), no path separators, not only dots and spaces.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FileName(String);

impl FileName {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = trimmed_line(raw, Self::MAX_CHARS)?;
        if trimmed.contains(['/', '\\']) {
            return Err("must not contain / or \\".to_owned());
        }
        if trimmed.chars().all(|c| c == '.' || c.is_whitespace()) {
            return Err("must be a file name, not only dots and spaces".to_owned());
        }
        Ok(Self(trimmed))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A media type `type/subtype`, lower-cased, without parameters.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContentType(String);

impl ContentType {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let lowered = raw.to_ascii_lowercase();
        let token = |part: &str| {
            !part.is_empty() && part.len() <= 63 && part.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
        };
        match lowered.split_once('/') {
            Some((kind, subtype)) if token(kind) && token(subtype) => Ok(Self(lowered)),
            _ => Err("must be a media type like image/png (no parameters)".to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

stored_string_conversions!(FileName);
string_conversions!(ContentType);

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    /// An upload URL was handed out; no bytes have arrived yet.
    Pending,
    /// The object arrived; size and etag are the store's, not the client's.
    Available,
}

/// A file's metadata as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub id: FileId,
    /// Who asked for the upload URL; the object key names them.
    pub uploaded_by: UserId,
    pub task_id: TaskId,
    pub name: FileName,
    pub content_type: ContentType,
    /// What the client said it would upload (and what the upload URL allows).
    pub declared_size: u64,
    /// What actually arrived.
    pub size: Option<u64>,
    pub etag: Option<String>,
    pub status: FileStatus,
    pub created_at: Timestamp,
    pub upload_expires_at: Timestamp,
    pub uploaded_at: Option<Timestamp>,
}

impl FileRecord {
    pub fn object_key(&self) -> ObjectKey {
        ObjectKey::for_file(self.uploaded_by, self.task_id, &self.id.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_metadata_without_paths_or_controls() {
        assert_eq!(FileName::parse(" report 2027.pdf ").unwrap().as_str(), "report 2027.pdf");
        for bad in ["", "  ", "../etc/passwd", "a\\b", "bell\u{7}.txt", "..", &"n".repeat(256)] {
            assert!(FileName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(FileName::parse("résumé – final.pdf").is_ok());
    }

    #[test]
    fn content_types_are_bare_media_types() {
        assert_eq!(ContentType::parse("Image/PNG").unwrap().as_str(), "image/png");
        assert!(ContentType::parse("application/vnd.openxmlformats-officedocument.wordprocessingml.document").is_ok());
        for bad in ["", "png", "image/", "/png", "text/plain; charset=utf-8", "image/png\r\nx: y", "a/b/c"] {
            assert!(ContentType::parse(bad).is_err(), "{bad:?}");
        }
    }
}
