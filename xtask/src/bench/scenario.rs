//! What each function is asked to do in the benchmark: its sample event from
//! `infra/events/`, made real (tokens, ids) and varied per invocation where a repeat would
//! measure a different path (a replayed create, an already-deleted task).

use std::collections::VecDeque;

use anyhow::Context as _;
use serde_json::{Value, json};

use super::{Fixture, Instance};

pub const SAMPLE_TASK_ID: &str = "01JAAAAAAAAAAAAAAAAAAAAAAA";
pub const SAMPLE_FILE_ID: &str = "01JBBBBBBBBBBBBBBBBBBBBBBB";
pub const SAMPLE_USER_ID: &str = "01JCCCCCCCCCCCCCCCCCCCCCCC";
pub const SAMPLE_NOTIFICATION_ID: &str = "01JDDDDDDDDDDDDDDDDDDDDDDD";
/// A member of the sample user's Inbox; an invitation they sent; one they received; a list
/// of theirs other than the Inbox (see the sample events).
pub const SAMPLE_MEMBER_ID: &str = "01JEEEEEEEEEEEEEEEEEEEEEEE";
pub const SAMPLE_SENT_INVITATION_ID: &str = "01JFFFFFFFFFFFFFFFFFFFFFFF";
pub const SAMPLE_RECEIVED_INVITATION_ID: &str = "01JGGGGGGGGGGGGGGGGGGGGGGG";
pub const SAMPLE_LIST_ID: &str = "01JHHHHHHHHHHHHHHHHHHHHHHH";
/// A list holds 49 people besides its owner (members and invitations): scenarios that add
/// one per invocation move to a fresh list after this many.
const PER_LIST: usize = 40;

pub fn sample(binary: &str) -> anyhow::Result<String> {
    // The Node reference reads what task-get reads.
    let binary = if binary == super::NODE_REFERENCE { "task-get" } else { binary };
    let path = crate::workspace_root().join(format!("infra/events/{binary}.json"));
    std::fs::read_to_string(&path).with_context(|| format!("no sample event {}", path.display()))
}

/// Whether an event is for a read route (`GET`).
pub fn is_read(event: &str) -> bool {
    serde_json::from_str::<Value>(event).is_ok_and(|event| event["routeKey"].as_str().is_some_and(|route| route.starts_with("GET ")))
}

/// An API Gateway event with its JSON body replaced.
pub fn with_body(event: &str, body: &Value) -> String {
    let mut event: Value = serde_json::from_str(event).expect("sample events are JSON");
    event["body"] = Value::String(body.to_string());
    event.to_string()
}

/// An API Gateway event with one header set.
pub fn with_header(event: &str, name: &str, value: &str) -> String {
    let mut event: Value = serde_json::from_str(event).expect("sample events are JSON");
    event["headers"][name] = Value::String(value.to_owned());
    event.to_string()
}

/// `event` without its header `name`.
pub fn without_header(event: &str, name: &str) -> String {
    let mut event: Value = serde_json::from_str(event).expect("sample events are JSON");
    if let Some(headers) = event["headers"].as_object_mut() {
        headers.remove(name);
    }
    event.to_string()
}

/// Produces the event for invocation `i` of one function (cold starts and warm ones share
/// the count), and learns from each answer where the next event depends on it.
pub struct Scenario {
    pub binary: String,
    events: Box<dyn FnMut(usize) -> String>,
    /// The refresh token to present next (session-refresh rotates it every call).
    refresh: Option<std::rc::Rc<std::cell::RefCell<String>>>,
}

impl Scenario {
    pub fn event(&mut self, i: usize) -> String {
        (self.events)(i)
    }

    pub fn learn(&mut self, answer: &Value) {
        if let (Some(refresh), Some(token)) = (&self.refresh, answer["refresh_token"].as_str()) {
            token.clone_into(&mut refresh.borrow_mut());
        }
    }
}

/// The scenario for `binary`, preparing in `fixture` whatever `invocations` events of it need.
pub fn scenario(binary: &str, fixture: &mut Fixture, invocations: usize) -> anyhow::Result<Scenario> {
    let base = if binary == super::FLOOR { json!({"ping": true}).to_string() } else { sample(binary)? };
    let base = match binary {
        "task-delete" | "file-upload-url" | "file-delete" => base.replace(SAMPLE_TASK_ID, OWN_TASK).replace(SAMPLE_FILE_ID, OWN_FILE),
        _ => base,
    };
    let common = fixture.replace(&base);
    let mut refresh = None;
    let events: Box<dyn FnMut(usize) -> String> = match binary {
        "user-signup" => {
            let nonce = fixture.nonce.clone();
            Box::new(move |i| {
                with_body(&common, &json!({"email": format!("signup-{nonce}-{i}@example.com"), "password": "correct horse battery"}))
            })
        }
        "session-create" => {
            let email = fixture.email.clone();
            Box::new(move |_| with_body(&common, &json!({"email": email, "password": "correct horse battery"})))
        }
        "session-refresh" => {
            let token = std::rc::Rc::new(std::cell::RefCell::new(fixture.refresh_token.clone()));
            refresh = Some(token.clone());
            Box::new(move |_| with_body(&common, &json!({"refresh_token": token.borrow().clone()})))
        }
        "user-me-delete" => {
            let access = fixture.access_token.clone();
            let mut accounts: VecDeque<String> = fixture.accounts(invocations)?.into();
            Box::new(move |_| common.replace(&access, &accounts.pop_front().expect("one account per invocation")))
        }
        "account-purge" => {
            let mut deleted: VecDeque<String> = fixture.deleted_accounts(invocations)?.into();
            let sample_user = fixture.user_id.clone();
            Box::new(move |_| common.replace(&sample_user, &deleted.pop_front().expect("one deleted account per invocation")))
        }
        "list-create" => {
            // A user owns at most 199 lists besides the Inbox: a fresh account every 100.
            let access = fixture.access_token.clone();
            let accounts = fixture.accounts(invocations.div_ceil(100))?;
            Box::new(move |i| {
                let event = with_header(&common.replace(&access, &accounts[i / 100]), "idempotency-key", &format!("bench-list-{i}"));
                with_body(&event, &json!({"name": format!("List {i}"), "color": "teal"}))
            })
        }
        // Each call a change: the Inbox's colour alternates.
        "list-update" => Box::new(move |i| with_body(&common, &json!({"color": if i % 2 == 0 { "teal" } else { "indigo" }}))),
        "task-create" => Box::new(move |i| with_header(&common, "idempotency-key", &format!("bench-{i}"))),
        "task-update" => Box::new(move |i| with_body(&common, &json!({"title": format!("Pay rent ({i})")}))),
        "task-delete" => {
            let mut tasks: VecDeque<String> = fixture.tasks(invocations)?.into();
            Box::new(move |_| common.replace(OWN_TASK, &tasks.pop_front().expect("one task per invocation")))
        }
        "file-upload-url" => {
            // A task holds at most 20 files: a fresh task every 20 uploads.
            let tasks = fixture.tasks(invocations.div_ceil(20))?;
            Box::new(move |i| common.replace(OWN_TASK, &tasks[i / 20]))
        }
        "file-delete" => {
            let mut files: VecDeque<(String, String)> = fixture.pending_files(invocations)?.into();
            Box::new(move |_| {
                let (task, file) = files.pop_front().expect("one file per invocation");
                common.replace(OWN_TASK, &task).replace(OWN_FILE, &file)
            })
        }
        "notification-update" => Box::new(move |i| with_body(&common, &json!({"read": i % 2 == 0}))),
        // One list per invocation, owned by accounts of their own (200 lists at most each).
        "list-delete" => {
            let access = fixture.access_token.clone();
            let mut lists: VecDeque<(String, String)> = fixture.owned_lists(invocations)?.into();
            Box::new(move |_| {
                let (token, list) = lists.pop_front().expect("one list per invocation");
                common.replace(&access, &token).replace(SAMPLE_LIST_ID, &list)
            })
        }
        // A member of the fixture's Inbox, whose role alternates.
        "member-update" => {
            let member = fixture.members_of_inbox(1)?.remove(0);
            let common = common.replace(SAMPLE_MEMBER_ID, &member);
            Box::new(move |i| with_body(&common, &json!({"role": if i % 2 == 0 { "viewer" } else { "editor" }})))
        }
        // A member to remove per invocation, in lists of the fixture's.
        "member-remove" => {
            let inbox = fixture.user_id.clone();
            let mut members: VecDeque<(String, String)> = fixture.members_of_lists(invocations)?.into();
            Box::new(move |_| {
                let (list, member) = members.pop_front().expect("one member per invocation");
                common.replace(&inbox, &list).replace(SAMPLE_MEMBER_ID, &member)
            })
        }
        // A new address per invocation, in lists of the fixture's.
        "invitation-create" => {
            let inbox = fixture.user_id.clone();
            let lists = fixture.fixture_lists(invocations.div_ceil(PER_LIST))?;
            let nonce = fixture.nonce.clone();
            Box::new(move |i| {
                let list = &lists[i / PER_LIST];
                let event = with_body(&common, &json!({"email": format!("invited-{nonce}-{i}@example.org"), "role": "viewer"}));
                event.replace(&inbox, list)
            })
        }
        "invitation-revoke" => {
            let inbox = fixture.user_id.clone();
            let mut sent: VecDeque<(String, String)> = fixture.sent_invitations(invocations)?.into();
            Box::new(move |_| {
                let (list, invitation) = sent.pop_front().expect("one invitation per invocation");
                common.replace(&inbox, &list).replace(SAMPLE_SENT_INVITATION_ID, &invitation)
            })
        }
        // Invitations to the fixture's own address, one per list of other people's.
        "invitation-announce" => {
            // Each call a new invitation to the fixture's address, as the stream delivers them.
            let mut received: VecDeque<String> = fixture.received_invitations(invocations)?.into();
            let common = common.replace("bob@example.com", &fixture.email);
            Box::new(move |_| common.replace(SAMPLE_RECEIVED_INVITATION_ID, &received.pop_front().expect("one invitation per invocation")))
        }
        "invitation-accept" | "invitation-decline" => {
            let mut received: VecDeque<String> = fixture.received_invitations(invocations)?.into();
            Box::new(move |_| common.replace(SAMPLE_RECEIVED_INVITATION_ID, &received.pop_front().expect("one invitation per invocation")))
        }
        _ => Box::new(move |_| common.clone()),
    };
    Ok(Scenario { binary: binary.to_owned(), events, refresh })
}

/// Where a scenario puts ids of its own (a task or file per invocation) in place of the
/// fixture's.
const OWN_TASK: &str = "__OWN_TASK_ID__";
const OWN_FILE: &str = "__OWN_FILE_ID__";

impl Fixture {
    /// Fills a sample event's placeholders with the fixture's user, task, file and notification.
    fn replace(&self, event: &str) -> String {
        event
            .replace("REPLACE_WITH_ACCESS_TOKEN", &self.access_token)
            .replace("REPLACE_WITH_REFRESH_TOKEN", &self.refresh_token)
            .replace(SAMPLE_USER_ID, &self.user_id)
            .replace(SAMPLE_NOTIFICATION_ID, &self.notification_id)
            .replace(SAMPLE_TASK_ID, &self.task_id)
            .replace(SAMPLE_FILE_ID, &self.file_id)
    }

    /// `n` more signed-up accounts; their access tokens.
    fn accounts(&mut self, n: usize) -> anyhow::Result<Vec<String>> {
        let mut signup = Instance::start(self, "user-signup")?;
        let event = sample("user-signup")?;
        (0..n)
            .map(|i| {
                let email = format!("doomed-{}-{i}@example.com", self.nonce);
                let answer = signup.call(&with_body(&event, &json!({"email": email, "password": "correct horse battery"})))?;
                Ok(answer["access_token"].as_str().context("a sign-up answers with tokens")?.to_owned())
            })
            .collect()
    }

    /// `n` more accounts, each with a task, deleted through `user-me-delete` (which leaves
    /// the rest to `account-purge`); their ids.
    fn deleted_accounts(&mut self, n: usize) -> anyhow::Result<Vec<String>> {
        let mut signup = Instance::start(self, "user-signup")?;
        let mut create = Instance::start(self, "task-create")?;
        let mut delete = Instance::start(self, "user-me-delete")?;
        let (signup_event, create_event, delete_event) = (sample("user-signup")?, sample("task-create")?, sample("user-me-delete")?);
        (0..n)
            .map(|i| {
                let email = format!("purged-{}-{i}@example.com", self.nonce);
                let answer = signup.call(&with_body(&signup_event, &json!({"email": email, "password": "correct horse battery"})))?;
                let token = answer["access_token"].as_str().context("a sign-up answers with tokens")?;
                let user = answer["user"]["id"].as_str().context("a user id")?;
                create.call(&create_event.replace("REPLACE_WITH_ACCESS_TOKEN", token).replace(SAMPLE_USER_ID, user))?;
                delete.call(&delete_event.replace("REPLACE_WITH_ACCESS_TOKEN", token))?;
                Ok(answer["user"]["id"].as_str().context("a user id")?.to_owned())
            })
            .collect()
    }

    /// `n` more accounts: (id, email, access token).
    fn people(&mut self, n: usize, label: &str) -> anyhow::Result<Vec<(String, String, String)>> {
        let mut signup = Instance::start(self, "user-signup")?;
        let event = sample("user-signup")?;
        let first = self.people_made;
        self.people_made += n;
        (first..first + n)
            .map(|i| {
                let email = format!("{label}-{}-{i}@example.com", self.nonce);
                let answer = signup.call(&with_body(&event, &json!({"email": email, "password": "correct horse battery"})))?;
                let token = answer["access_token"].as_str().context("a sign-up answers with tokens")?.to_owned();
                Ok((answer["user"]["id"].as_str().context("a user id")?.to_owned(), email, token))
            })
            .collect()
    }

    /// `n` new lists owned by the account behind `token`; their ids.
    fn new_lists(&self, token: &str, n: usize) -> anyhow::Result<Vec<String>> {
        let mut create = Instance::start(self, "list-create")?;
        // Without the sample's `Idempotency-Key`: with it, every list after the first would be a 409.
        let event = without_header(&sample("list-create")?.replace("REPLACE_WITH_ACCESS_TOKEN", token), "idempotency-key");
        (0..n)
            .map(|i| {
                let answer = create.call(&with_body(&event, &json!({"name": format!("Bench {i}")})))?;
                Ok(answer["id"].as_str().context("a list id")?.to_owned())
            })
            .collect()
    }

    /// `n` lists of the fixture's user (for invitations and members).
    fn fixture_lists(&self, n: usize) -> anyhow::Result<Vec<String>> {
        self.new_lists(&self.access_token, n)
    }

    /// `n` lists, each with its owner's token, owners 150 lists apart.
    fn owned_lists(&mut self, n: usize) -> anyhow::Result<Vec<(String, String)>> {
        let owners = self.people(n.div_ceil(150), "owner")?;
        let mut lists = Vec::with_capacity(n);
        for (index, (_, _, token)) in owners.iter().enumerate() {
            let count = (n - index * 150).min(150);
            lists.extend(self.new_lists(token, count)?.into_iter().map(|list| (token.clone(), list)));
        }
        Ok(lists)
    }

    /// `owner` (a token) invites `email` to `list`; the invitation's id.
    fn invite(invite: &mut Instance, owner: &str, list: &str, email: &str) -> anyhow::Result<String> {
        let event = sample("invitation-create")?.replace("REPLACE_WITH_ACCESS_TOKEN", owner).replace(SAMPLE_USER_ID, list);
        let answer = invite.call(&with_body(&event, &json!({"email": email, "role": "editor"})))?;
        Ok(answer["id"].as_str().context("an invitation id")?.to_owned())
    }

    /// `people` join `list` of the fixture's user (invited, accepted).
    fn join(&self, list: &str, people: &[(String, String, String)]) -> anyhow::Result<()> {
        let mut invite = Instance::start(self, "invitation-create")?;
        let mut accept = Instance::start(self, "invitation-accept")?;
        let accept_event = sample("invitation-accept")?;
        for (_, email, token) in people {
            let invitation = Self::invite(&mut invite, &self.access_token, list, email)?;
            accept.call(&accept_event.replace("REPLACE_WITH_ACCESS_TOKEN", token).replace(SAMPLE_RECEIVED_INVITATION_ID, &invitation))?;
        }
        Ok(())
    }

    /// `n` members of the fixture's Inbox; their ids.
    fn members_of_inbox(&mut self, n: usize) -> anyhow::Result<Vec<String>> {
        let people = self.people(n, "member")?;
        self.join(&self.user_id.clone(), &people)?;
        Ok(people.into_iter().map(|(id, _, _)| id).collect())
    }

    /// `n` members spread over fresh lists of the fixture's: (list, member) pairs.
    fn members_of_lists(&mut self, n: usize) -> anyhow::Result<Vec<(String, String)>> {
        let lists = self.fixture_lists(n.div_ceil(PER_LIST))?;
        let people = self.people(n, "member")?;
        let mut pairs = Vec::with_capacity(n);
        for (list, group) in lists.iter().zip(people.chunks(PER_LIST)) {
            self.join(list, group)?;
            pairs.extend(group.iter().map(|(id, _, _)| (list.clone(), id.clone())));
        }
        Ok(pairs)
    }

    /// `n` pending invitations from fresh lists of the fixture's: (list, invitation) pairs.
    fn sent_invitations(&mut self, n: usize) -> anyhow::Result<Vec<(String, String)>> {
        let lists = self.fixture_lists(n.div_ceil(PER_LIST))?;
        let mut invite = Instance::start(self, "invitation-create")?;
        (0..n)
            .map(|i| {
                let list = &lists[i / PER_LIST];
                let invitation = Self::invite(&mut invite, &self.access_token, list, &format!("pending-{}-{i}@example.org", self.nonce))?;
                Ok((list.clone(), invitation))
            })
            .collect()
    }

    /// `n` invitations to the fixture's own address, each to another list of someone else's.
    fn received_invitations(&mut self, n: usize) -> anyhow::Result<Vec<String>> {
        let lists = self.owned_lists(n)?;
        let mut invite = Instance::start(self, "invitation-create")?;
        lists.iter().map(|(owner, list)| Self::invite(&mut invite, owner, list, &self.email)).collect()
    }

    /// `n` more tasks of the fixture's user; their ids.
    fn tasks(&mut self, n: usize) -> anyhow::Result<Vec<String>> {
        let mut create = Instance::start(self, "task-create")?;
        let event = self.replace(&sample("task-create")?);
        // Keys unique across calls: a reused key would replay an earlier (maybe deleted) task.
        let first = self.tasks_created;
        self.tasks_created += n;
        (first..first + n)
            .map(|i| {
                let answer = create.call(&with_header(&event, "idempotency-key", &format!("fixture-{}-{i}", self.nonce)))?;
                Ok(answer["id"].as_str().context("a created task has an id")?.to_owned())
            })
            .collect()
    }

    /// `n` pending files (no bytes) spread over fresh tasks; (task id, file id) pairs.
    fn pending_files(&mut self, n: usize) -> anyhow::Result<Vec<(String, String)>> {
        let tasks = self.tasks(n.div_ceil(20))?;
        let mut upload = Instance::start(self, "file-upload-url")?;
        let event = self.replace(&sample("file-upload-url")?);
        (0..n)
            .map(|i| {
                let task = &tasks[i / 20];
                let answer = upload.call(&event.replace(&self.task_id, task))?;
                Ok((task.clone(), answer["file"]["id"].as_str().context("a file id")?.to_owned()))
            })
            .collect()
    }
}
