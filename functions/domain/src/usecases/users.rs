//! Accounts and sessions: sign-up, log-in, refresh rotation, log-out, profile.

use tracing::instrument;

use crate::app::App;
use crate::auth::{Principal, RefreshToken};
use crate::error::Error;
use crate::model::{DisplayName, Email, Password, Role, SessionId, Timestamp, User, UserId};
use crate::ports::{Session, StoreError};
use crate::usecases::throttle;

/// A freshly issued token pair.
#[derive(Debug)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: RefreshToken,
    pub expires_in: i64,
}

#[derive(Debug)]
pub struct SignUp {
    pub email: Email,
    pub password: Password,
    pub name: Option<DisplayName>,
}

#[derive(Debug)]
pub struct Credentials {
    pub email: Email,
    pub password: Password,
}

/// A profile change. Changing the email or the password needs the current password.
#[derive(Debug, Default)]
pub struct ProfileChange {
    pub name: Option<Option<DisplayName>>,
    pub email: Option<Email>,
    pub password: Option<Password>,
    pub current_password: Option<Password>,
}

#[instrument(skip_all)]
pub async fn sign_up(app: &App, request: SignUp) -> Result<(User, IssuedTokens), Error> {
    let now = app.clock.now();
    let password_hash = app.passwords.hash(request.password).await?;
    let user = User {
        id: UserId::generate(),
        email: request.email,
        name: request.name,
        password_hash,
        created_at: now,
        updated_at: now,
        version: 1,
        credentials_version: 1,
    };
    match app.stores.users.insert_user(&user, &crate::model::TaskList::inbox_of(user.id, now)).await {
        Ok(()) => {}
        Err(StoreError::AlreadyExists) => return Err(Error::Conflict("an account with this email already exists".to_owned())),
        Err(other) => return Err(other.into()),
    }
    let tokens = start_session(app, &user, now).await?;
    tracing::info!(user_id = %user.id, "user signed up");
    Ok((user, tokens))
}

/// Unknown email and wrong password take the same path through the hasher and end in the
/// same error, so neither the answer nor its timing tells them apart.
#[instrument(skip_all)]
pub async fn log_in(app: &App, credentials: Credentials) -> Result<(User, IssuedTokens), Error> {
    // The throttle first: a locked email is refused before anything about it is looked up.
    let found = throttle::checked(app, &credentials.email, async {
        let user = app.stores.users.find_user_by_email(&credentials.email).await?;
        if user.is_none() {
            // A known email costs two reads on DynamoDB (its guard, then the account); an
            // unknown one reads an account that cannot exist too, so a log-in's timing does not
            // tell which emails have accounts (the decoy hash evens out the password check).
            app.stores.users.get_user(UserId::generate()).await?;
        }
        let stored = user.as_ref().map(|user| user.password_hash.clone());
        let verified = app.passwords.verify(credentials.password, stored).await?;
        Ok(user.filter(|_| verified))
    })
    .await?;
    let user = found.ok_or(Error::InvalidCredentials)?;
    let now = app.clock.now();
    make_room_for_a_session(app, &user, now).await?;
    let tokens = start_session(app, &user, now).await?;
    Ok((user, tokens))
}

/// How many sessions (signed-in browsers and devices) an account keeps at once: a log-in past
/// it ends the oldest, so sessions cannot pile up without bound.
pub const MAX_SESSIONS: usize = 25;

async fn start_session(app: &App, user: &User, now: Timestamp) -> Result<IssuedTokens, Error> {
    let user_id = user.id;
    let session_id = SessionId::generate();
    let salt = RefreshToken::new_salt();
    let refresh_token = RefreshToken::derive(&app.refresh_key, user_id, session_id, 1, &salt);
    let session = Session {
        id: session_id,
        user_id,
        generation: 1,
        secret_hash: refresh_token.secret_hash(),
        salt,
        created_at: now,
        expires_at: now.plus(chrono::Duration::seconds(app.settings.refresh_token_seconds)),
        revoked_at: None,
        credentials_version: user.credentials_version,
    };
    app.stores.sessions.insert_session(&session).await?;
    issue(app, Principal { user_id, session_id }, refresh_token, now)
}

fn issue(app: &App, principal: Principal, refresh_token: RefreshToken, now: Timestamp) -> Result<IssuedTokens, Error> {
    let access_token = app.access_tokens.issue(principal, now)?;
    Ok(IssuedTokens { access_token, refresh_token, expires_in: app.access_tokens.lifetime_seconds() })
}

/// Rotates a refresh token. Presenting an earlier generation of a session's token — one
/// already rotated, so either stolen or replayed — revokes the whole session.
#[instrument(skip_all, fields(session_id = %presented.session_id))]
pub async fn refresh(app: &App, presented: RefreshToken) -> Result<IssuedTokens, Error> {
    const INVALID: Error = Error::Unauthenticated("the refresh token is invalid, expired or revoked");
    let now = app.clock.now();
    let Some(session) = app.stores.sessions.get_session(presented.user_id, presented.session_id).await? else {
        return Err(INVALID);
    };
    if session.revoked_at.is_some() || session.expires_at <= now {
        return Err(INVALID);
    }
    if presented.generation < session.generation {
        // Only a genuine earlier token proves a replay; anything else is just invalid.
        if presented.is_genuine(&app.refresh_key, &session.salt) {
            return Err(revoke_for_reuse(app, &session, now).await);
        }
        return Err(INVALID);
    }
    if presented.generation != session.generation || !presented.matches(&session.secret_hash) {
        return Err(INVALID);
    }
    // A deleted account's sessions may outlive it briefly (its cascade removes them); a
    // session from before the last password change is over.
    match app.stores.users.get_user(session.user_id).await? {
        Some(user) if user.credentials_version == session.credentials_version => {}
        _ => return Err(INVALID),
    }
    let next_token = RefreshToken::derive(&app.refresh_key, session.user_id, session.id, session.generation + 1, &session.salt);
    let rotated = Session { generation: next_token.generation, secret_hash: next_token.secret_hash(), ..session.clone() };
    match app.stores.sessions.rotate_session(&rotated, session.generation).await {
        Ok(()) => issue(app, Principal { user_id: session.user_id, session_id: session.id }, next_token, now),
        // Someone rotated this very token first: the same token was used twice.
        Err(StoreError::VersionMismatch) => Err(revoke_for_reuse(app, &session, now).await),
        Err(StoreError::NotFound) => Err(INVALID),
        Err(other) => Err(other.into()),
    }
}

/// Makes room for a new session: removes the account's sessions that can no longer refresh
/// (logged out, expired, or from before the last password change) and, past
/// `MAX_SESSIONS` with the new one, the oldest live ones. So the sessions a log-in reads stay
/// about `MAX_SESSIONS`, however often the account logs in.
async fn make_room_for_a_session(app: &App, user: &User, now: Timestamp) -> Result<(), Error> {
    let sessions = app.stores.sessions.user_sessions(user.id).await?;
    let (live, dead): (Vec<Session>, Vec<Session>) = sessions.into_iter().partition(|session| {
        // `>=`, not `==`: `user` was read before the password check, and a password change
        // meanwhile may have moved sessions on to a newer version, which must live.
        session.revoked_at.is_none() && session.expires_at > now && session.credentials_version >= user.credentials_version
    });
    let excess = (live.len() + 1).saturating_sub(MAX_SESSIONS);
    let ended: Vec<SessionId> = dead.iter().chain(live.iter().take(excess)).map(|session| session.id).collect();
    if !ended.is_empty() {
        app.stores.sessions.delete_sessions(user.id, &ended).await?;
    }
    Ok(())
}

async fn revoke_for_reuse(app: &App, session: &Session, now: Timestamp) -> Error {
    tracing::warn!(session_id = %session.id, user_id = %session.user_id, "refresh token reused; revoking its session");
    match app.stores.sessions.revoke_session(session.user_id, session.id, now).await {
        Ok(()) | Err(StoreError::NotFound) => Error::Unauthenticated("the refresh token was already used; its session has been revoked"),
        Err(other) => other.into(),
    }
}

#[instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn log_out(app: &App, principal: Principal) -> Result<(), Error> {
    match app.stores.sessions.revoke_session(principal.user_id, principal.session_id, app.clock.now()).await {
        Ok(()) | Err(StoreError::NotFound) => Ok(()),
        Err(other) => Err(other.into()),
    }
}

/// The caller's account. A token outliving its account is no longer a credential.
pub async fn current_user(app: &App, principal: Principal) -> Result<User, Error> {
    app.stores.users.get_user(principal.user_id).await?.ok_or(Error::Unauthenticated("the account no longer exists"))
}

#[instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn update_profile(app: &App, principal: Principal, change: ProfileChange) -> Result<User, Error> {
    let user = current_user(app, principal).await?;
    let sensitive = change.email.as_ref().is_some_and(|email| *email != user.email) || change.password.is_some();
    if sensitive {
        let Some(current) = change.current_password else {
            return Err(Error::field("current_password", "is required to change the email or the password"));
        };
        let verify = app.passwords.verify(current, Some(user.password_hash.clone()));
        if throttle::checked(app, &user.email, async { Ok(verify.await?.then_some(())) }).await?.is_none() {
            return Err(Error::field("current_password", "does not match the account's password"));
        }
    }
    let now = app.clock.now();
    let mut updated = user.clone();
    if let Some(name) = change.name {
        updated.name = name;
    }
    if let Some(email) = change.email {
        updated.email = email;
    }
    let password_changed = change.password.is_some();
    if let Some(password) = change.password {
        updated.password_hash = app.passwords.hash(password).await?;
        updated.credentials_version = user.credentials_version + 1;
    }
    if updated == user {
        return Ok(user);
    }
    updated.version = user.version + 1;
    updated.updated_at = now;
    // Whoever knew the old password is logged out everywhere (their sessions can no longer
    // refresh: `credentials_version` moved on) but here: this session moves with it, in the
    // same write.
    let keep = password_changed.then_some(principal.session_id);
    match app.stores.users.replace_user(&user, &updated, keep).await {
        Ok(()) => {}
        Err(StoreError::AlreadyExists) => return Err(Error::Conflict("an account with this email already exists".to_owned())),
        Err(StoreError::VersionMismatch) => return Err(Error::Conflict("the account changed concurrently; retry".to_owned())),
        Err(StoreError::NotFound) => return Err(Error::Unauthenticated("the account no longer exists")),
        Err(other) => return Err(other.into()),
    }
    Ok(updated)
}

/// Deletes the account; its lists, tasks and files go afterwards. The user item goes first,
/// with a durable deletion marker in the same write: from then on no task can be created by
/// it (creation is conditional on the creator's account); its other writes and reads stop
/// when the purge removes its lists' memberships, seconds later. Its sessions go next, so no
/// refresh token mints access again. What remains (lists, files and their objects, tasks,
/// notifications) can take longer than a request may: the marker is
/// picked up by `finish_deletions` — on AWS the `account-purge` function, on the table's
/// stream of new markers; locally the server's purge loop — and housekeeping is the safety net.
///
/// The password is asked again: an access token alone (a borrowed device, a token that
/// outlives a log-out by its 15 minutes) must not be enough to erase an account.
#[instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn delete_account(app: &App, principal: Principal, password: Password) -> Result<(), Error> {
    let user = current_user(app, principal).await?;
    let verify = app.passwords.verify(password, Some(user.password_hash.clone()));
    if throttle::checked(app, &user.email, async { Ok(verify.await?.then_some(())) }).await?.is_none() {
        return Err(Error::field("password", "does not match the account's password"));
    }
    app.stores.users.delete_user(&user, app.clock.now()).await?;
    app.stores.sessions.delete_user_sessions(user.id).await?;
    Ok(())
}

/// Removes the leftovers of each deleted account in `users` (see `remove_leftovers`); how
/// many it finished. One account failing does not hold up the others: every account is
/// tried, then the first failure is returned (its marker stays, so a retry or housekeeping
/// resumes it).
pub async fn finish_deletions(app: &App, users: impl IntoIterator<Item = UserId>) -> Result<u64, Error> {
    crate::usecases::each_then_first_failure(users, |user| async move {
        remove_leftovers(app, user).await.inspect_err(|error| {
            tracing::error!(user_id = %user, error = %error, "finishing an account deletion failed");
        })
    })
    .await
}

/// Finishes up to `limit` pending deletions, in the store's marker order: the local server's
/// stand-in for the table stream, and housekeeping's safety net. How many it finished, and
/// whether the limit was reached (more may be pending).
pub async fn finish_pending_deletions(app: &App, limit: u32) -> Result<(u64, bool), Error> {
    let pending = app.stores.users.pending_deletions(limit).await?;
    let more = pending.len() == limit as usize;
    Ok((finish_deletions(app, pending).await?, more))
}

/// Removes everything a deleted account owned, then its deletion marker. Idempotent: the
/// housekeeping job calls it again for any marker an interrupted deletion left behind.
#[instrument(skip_all, fields(user_id = %user))]
pub async fn remove_leftovers(app: &App, user: UserId) -> Result<(), Error> {
    // Sessions first: from here on no refresh token mints access to what remains.
    let sessions = app.stores.sessions.delete_user_sessions(user).await?;
    let (mut lists, mut left) = (0, 0);
    for membership in app.stores.lists.memberships(user).await? {
        if membership.role == Role::Owner {
            crate::usecases::lists::purge_list(app, membership.list_id, user).await?;
            lists += 1;
        } else {
            // Other people's lists: the account leaves them (their tasks stay theirs).
            match app.stores.sharing.remove_member(user, membership.list_id, user).await {
                Ok(()) | Err(StoreError::NotFound) => left += 1,
                Err(other) => return Err(other.into()),
            }
        }
    }
    // Reminders are written only while their task exists, and every task is gone by now.
    let notifications = app.stores.notifications.delete_user_notifications(user).await?;
    app.stores.tasks.delete_user_idempotency(user).await?;
    app.stores.users.finish_deletion(user).await?;
    tracing::info!(lists, left, notifications, sessions, "account data removed");
    Ok(())
}
