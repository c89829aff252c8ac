//! Shared rules for user-supplied text.

/// Checks length (in characters, after the caller's trimming) and control characters.
/// `allow_newlines` admits `\n`, `\r` and `\t`, for multi-line fields.
pub(crate) fn check_text(value: &str, min: usize, max: usize, allow_newlines: bool) -> Result<(), String> {
    let length = value.chars().count();
    if length < min {
        return Err(if min == 1 { "must not be empty".to_owned() } else { format!("must be at least {min} characters") });
    }
    if length > max {
        return Err(format!("must be at most {max} characters"));
    }
    let forbidden = |c: char| c.is_control() && !(allow_newlines && matches!(c, '\n' | '\r' | '\t'));
    if value.chars().any(forbidden) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(())
}

/// A single line of 1 to `max` characters after trimming: what titles and names are.
pub(crate) fn trimmed_line(raw: &str, max: usize) -> Result<String, String> {
    let trimmed = raw.trim();
    check_text(trimmed, 1, max, false)?;
    Ok(trimmed.to_owned())
}

/// `TryFrom<String>` through `parse` and `From<Self> for String`, for newtypes over a
/// `String` that serde reads and writes as plain strings.
macro_rules! string_conversions {
    ($($name:ident),*) => {$(
        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(raw: String) -> Result<Self, String> {
                Self::parse(&raw)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    )*};
}
pub(crate) use string_conversions;
