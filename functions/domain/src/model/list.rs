//! Task lists and who may use them. Every task is in exactly one list; a user reaches a
//! list only through a membership, whose role says what they may do there.

use serde::{Deserialize, Serialize};

use super::ids::{InvitationId, ListId, UserId};
use super::text::{stored_string_conversions, trimmed_line};
use super::time::Timestamp;
use super::user::{DisplayName, Email};

/// A list's name: 1 to 100 characters after trimming, single line.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ListName(String);

impl ListName {
    pub const MAX_CHARS: usize = 100;
    /// The name every account's first list has.
    pub const INBOX: &'static str = "Inbox";

    pub fn parse(raw: &str) -> Result<Self, String> {
        trimmed_line(raw, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

stored_string_conversions!(ListName);

/// Where a member puts a list among their own (each person orders their sidebar): 0 to
/// 1,000,000, smallest first; lists without one follow, oldest first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct ListPosition(u32);

impl ListPosition {
    pub const MAX: u32 = 1_000_000;

    pub fn parse(raw: i64) -> Result<Self, String> {
        match u32::try_from(raw) {
            Ok(position) if position <= Self::MAX => Ok(Self(position)),
            _ => Err(format!("must be a whole number from 0 to {}", Self::MAX)),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for ListPosition {
    type Error = String;
    fn try_from(raw: u32) -> Result<Self, String> {
        Self::parse(raw.into())
    }
}

impl From<ListPosition> for u32 {
    fn from(position: ListPosition) -> u32 {
        position.0
    }
}

/// What a member may do in a list. Only the owner manages the list itself and its members;
/// an editor changes tasks and files; a viewer reads.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Editor,
    Viewer,
}

impl Role {
    /// Whether this role may create, change and delete the list's tasks and files.
    pub fn writes_tasks(self) -> bool {
        matches!(self, Self::Owner | Self::Editor)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Editor => "editor",
            Self::Viewer => "viewer",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "owner" => Ok(Self::Owner),
            "editor" => Ok(Self::Editor),
            "viewer" => Ok(Self::Viewer),
            _ => Err("must be one of owner, editor, viewer".to_owned()),
        }
    }
}

/// A role the owner gives someone else: a list has exactly one owner, for its whole life.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SharedRole {
    Editor,
    Viewer,
}

impl SharedRole {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "editor" => Ok(Self::Editor),
            "viewer" => Ok(Self::Viewer),
            _ => Err("must be editor or viewer (a list has one owner)".to_owned()),
        }
    }

    pub fn as_str(self) -> &'static str {
        Role::from(self).as_str()
    }
}

impl From<SharedRole> for Role {
    fn from(role: SharedRole) -> Self {
        match role {
            SharedRole::Editor => Self::Editor,
            SharedRole::Viewer => Self::Viewer,
        }
    }
}

/// A list's colour, from a fixed palette: the app maps each to accessible light and dark
/// shades, which free-form colours could not promise.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListColor {
    Red,
    Orange,
    Yellow,
    Green,
    Teal,
    Blue,
    Indigo,
    Purple,
    Pink,
    Grey,
}

impl ListColor {
    pub const ALL: [Self; 10] =
        [Self::Red, Self::Orange, Self::Yellow, Self::Green, Self::Teal, Self::Blue, Self::Indigo, Self::Purple, Self::Pink, Self::Grey];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Red => "red",
            Self::Orange => "orange",
            Self::Yellow => "yellow",
            Self::Green => "green",
            Self::Teal => "teal",
            Self::Blue => "blue",
            Self::Indigo => "indigo",
            Self::Purple => "purple",
            Self::Pink => "pink",
            Self::Grey => "grey",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|color| color.as_str() == raw)
            .ok_or_else(|| format!("must be one of {}", Self::ALL.map(Self::as_str).join(", ")))
    }
}

/// The fields a client sets when creating a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewList {
    pub name: ListName,
    pub color: Option<ListColor>,
}

/// A merge patch of a list: `None` leaves a field alone, `Some(None)` clears the colour.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListPatch {
    pub name: Option<ListName>,
    pub color: Option<Option<ListColor>>,
    /// The caller's own place for the list (`Some(None)` clears it): not part of the list.
    pub position: Option<Option<ListPosition>>,
}

impl ListPatch {
    /// Whether the patch changes the list itself (what only its writers may do).
    pub fn touches_list(&self) -> bool {
        self.name.is_some() || self.color.is_some()
    }
}

/// A list as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskList {
    pub id: ListId,
    pub name: ListName,
    #[serde(default)]
    pub color: Option<ListColor>,
    pub owner: UserId,
    /// The account's Inbox: made with the account, never renamed or deleted.
    pub inbox: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Starts at 1, bumped on every change.
    pub version: u64,
}

impl TaskList {
    /// The Inbox a new account starts with.
    pub fn inbox_of(user: UserId, now: Timestamp) -> Self {
        Self {
            id: ListId::inbox_of(user),
            name: ListName(ListName::INBOX.to_owned()),
            color: None,
            owner: user,
            inbox: true,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }
}

impl TaskList {
    /// A new list of `owner`'s.
    pub fn create(id: ListId, owner: UserId, new: NewList, now: Timestamp) -> Self {
        Self { id, name: new.name, color: new.color, owner, inbox: false, created_at: now, updated_at: now, version: 1 }
    }

    /// Applies a patch at `now`: a new version if anything changed. The Inbox keeps its name.
    pub fn apply(&self, patch: ListPatch, now: Timestamp) -> Result<Self, crate::error::FieldError> {
        let mut updated = self.clone();
        if let Some(name) = patch.name {
            if self.inbox && name != self.name {
                return Err(crate::error::FieldError::new("name", "the Inbox cannot be renamed"));
            }
            updated.name = name;
        }
        if let Some(color) = patch.color {
            updated.color = color;
        }
        if updated != *self {
            updated.version = self.version + 1;
            updated.updated_at = now;
        }
        Ok(updated)
    }
}

/// One list a user belongs to, and as what.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub list_id: ListId,
    pub user_id: UserId,
    pub role: Role,
    /// The member's own place for the list; none until they choose one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<ListPosition>,
}

impl Membership {
    /// A new member's: no position chosen yet.
    pub fn new(list_id: ListId, user_id: UserId, role: Role) -> Self {
        Self { list_id, user_id, role, position: None }
    }

    /// The order of a member's lists: by position, then (unplaced) by id, i.e. creation.
    pub fn order(&self) -> ListOrder {
        ListOrder { unplaced: self.position.is_none(), position: self.position.map_or(0, ListPosition::get), list: self.list_id }
    }
}

/// Where a list falls in its member's order (and where a page of their lists resumes).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub struct ListOrder {
    unplaced: bool,
    position: u32,
    list: ListId,
}

/// An owner's invitation of an email address to their list. Addressed to the email, not an
/// account: the invitee may sign up later, and inviting an address tells the inviter nothing
/// about whether it has an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: InvitationId,
    pub list_id: ListId,
    /// The list's name when the invitation was sent: the invitee cannot read the list yet.
    pub list_name: ListName,
    pub email: Email,
    pub role: SharedRole,
    pub invited_by: UserId,
    /// The inviter's display name then, if they had one.
    #[serde(default)]
    pub invited_by_name: Option<DisplayName>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl Invitation {
    /// How long an invitation can be accepted.
    pub const LIFETIME_DAYS: i64 = 7;

    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at <= now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_names_are_trimmed_single_lines() {
        assert_eq!(ListName::parse("  Groceries ").unwrap().as_str(), "Groceries");
        for bad in ["", "   ", "two\nlines", &"n".repeat(101)] {
            assert!(ListName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_owners_and_editors_write_tasks() {
        assert!(Role::Owner.writes_tasks() && Role::Editor.writes_tasks() && !Role::Viewer.writes_tasks());
        for role in [Role::Owner, Role::Editor, Role::Viewer] {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(Role::parse("admin").is_err());
    }

    #[test]
    fn colours_come_from_the_palette_and_the_inbox_keeps_its_name() {
        assert_eq!(ListColor::parse("teal"), Ok(ListColor::Teal));
        assert!(ListColor::parse("#ff0000").unwrap_err().contains("red, orange"));
        let now = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let inbox = TaskList::inbox_of(UserId::generate(), now);
        let renamed = ListPatch { name: Some(ListName::parse("Stuff").unwrap()), ..ListPatch::default() };
        assert_eq!(inbox.apply(renamed.clone(), now).unwrap_err().field, "name");
        let recoloured = inbox.apply(ListPatch { color: Some(Some(ListColor::Red)), ..ListPatch::default() }, now).unwrap();
        assert_eq!((recoloured.color, recoloured.version), (Some(ListColor::Red), 2));
        let same = inbox.apply(ListPatch { name: Some(inbox.name.clone()), color: Some(None), position: None }, now).unwrap();
        assert_eq!(same, inbox, "no change, no new version");
        let groceries = TaskList::create(
            ListId::generate(),
            UserId::generate(),
            NewList { name: ListName::parse("Groceries").unwrap(), color: None },
            now,
        );
        assert_eq!(groceries.apply(renamed, now).unwrap().name.as_str(), "Stuff");
    }

    #[test]
    fn only_editor_and_viewer_are_given() {
        assert_eq!(SharedRole::parse("editor").map(Role::from), Ok(Role::Editor));
        assert_eq!(SharedRole::parse("viewer").map(Role::from), Ok(Role::Viewer));
        assert!(SharedRole::parse("owner").unwrap_err().contains("one owner"));
    }

    #[test]
    fn the_inbox_has_its_owners_id() {
        let user = UserId::generate();
        let inbox = TaskList::inbox_of(user, Timestamp::parse("2026-01-01T00:00:00Z").unwrap());
        assert_eq!(inbox.id, ListId::inbox_of(user));
        assert_eq!(inbox.id.to_string(), user.to_string());
        assert!(inbox.inbox && inbox.owner == user && inbox.name.as_str() == "Inbox");
    }
}
