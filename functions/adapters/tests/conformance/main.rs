//! One conformance suite for the storage ports, run against every adapter: the embedded
//! SQLite store always, and DynamoDB on moto's server (started by `cargo xtask test`, which
//! exports `TODO_TEST_AWS_ENDPOINT`). Without an emulator the DynamoDB half fails: it never
//! skips.

mod blobs;
mod files;
mod lists;
mod notifications;
mod sharing;
mod support;
mod tasks;
mod throttle;
mod users;

/// Instantiates each listed test once per backend.
macro_rules! conformance {
    ($($test:path => $name:ident),* $(,)?) => {
        mod embedded {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                $test(crate::support::Backend::embedded()).await;
            })*
        }
        mod dynamodb {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let backend = crate::support::Backend::dynamodb().await;
                $test(backend.clone()).await;
                backend.assert_no_scan();
            })*
        }
    };
}

conformance! {
    crate::sharing::an_invitation_is_announced_once_to_whoever_holds_the_address => sharing_an_invitation_is_announced_once_to_whoever_holds_the_address,
    crate::lists::a_keyed_list_creation_happens_once => lists_a_keyed_list_creation_happens_once,
    crate::sharing::no_write_lands_after_the_right_is_lost => sharing_no_write_lands_after_the_right_is_lost,
    crate::sharing::a_list_deleted_under_a_writer_leaves_nothing => sharing_a_list_deleted_under_a_writer_leaves_nothing,
    crate::lists::the_cross_list_view_pages_every_list_once_in_order => lists_the_cross_list_view_pages_every_list_once_in_order,
    crate::lists::a_task_moves_with_its_files_for_writers_of_both_lists => lists_a_task_moves_with_its_files_for_writers_of_both_lists,
    crate::lists::a_deleted_list_is_marked_then_frees_its_place_once => lists_a_deleted_list_is_marked_then_frees_its_place_once,
    crate::sharing::members_join_by_invitation_change_role_leave_and_are_removed => sharing_members_join_by_invitation_change_role_leave_and_are_removed,
    crate::sharing::seats_bound_members_and_invitations => sharing_seats_bound_members_and_invitations,
    crate::sharing::accepting_needs_a_live_invitation_an_account_and_a_live_list => sharing_accepting_needs_a_live_invitation_an_account_and_a_live_list,
    crate::sharing::deleting_a_shared_list_leaves_no_member_or_invitation => sharing_deleting_a_shared_list_leaves_no_member_or_invitation,
    crate::notifications::reminders_are_sent_exactly_once_even_by_concurrent_runs => notifications_reminders_are_sent_exactly_once_even_by_concurrent_runs,
    crate::notifications::a_crashed_run_is_finished_by_the_next_without_repeats => notifications_a_crashed_run_is_finished_by_the_next_without_repeats,
    crate::notifications::workers_racing_on_one_shard_send_each_alarm_once => notifications_workers_racing_on_one_shard_send_each_alarm_once,
    crate::notifications::one_persons_pile_of_alarms_waits_behind_everyone_elses => notifications_one_persons_pile_of_alarms_waits_behind_everyone_elses,
    crate::notifications::a_notification_already_stored_is_not_sent_again => notifications_a_notification_already_stored_is_not_sent_again,
    crate::notifications::completing_first_silences_and_moving_a_reminder_re_arms_it => notifications_completing_first_silences_and_moving_a_reminder_re_arms_it,
    crate::notifications::the_feed_is_paged_newest_first_filtered_expiring_and_isolated => notifications_the_feed_is_paged_newest_first_filtered_expiring_and_isolated,
    crate::files::housekeeping_gives_up_stale_uploads_and_nothing_else => files_housekeeping_gives_up_stale_uploads_and_nothing_else,
    crate::files::a_task_with_files_is_not_deleted => files_a_task_with_files_is_not_deleted,
    crate::users::housekeeping_finishes_an_interrupted_deletion => users_housekeeping_finishes_an_interrupted_deletion,
    crate::files::files_need_their_task_and_respect_the_limit => files_need_their_task_and_respect_the_limit,
    crate::files::a_deleted_account_starts_no_upload => files_a_deleted_account_starts_no_upload,
    crate::files::a_recorded_upload_leaves_the_abandoned_upload_net => files_a_recorded_upload_leaves_the_abandoned_upload_net,
    crate::files::files_are_isolated_and_paged_exactly_once => files_are_isolated_and_paged_exactly_once,
    crate::files::an_upload_is_recorded_once => files_an_upload_is_recorded_once,
    crate::files::files_are_created_only_by_members_on_tasks_of_the_list => files_are_created_only_by_members_on_tasks_of_the_list,
    crate::lists::sign_up_makes_the_inbox_with_its_owner => lists_sign_up_makes_the_inbox_with_its_owner,
    crate::lists::a_non_member_can_write_nothing => lists_a_non_member_can_write_nothing,
    crate::lists::deleting_a_list_stops_every_write_first_and_resumes => lists_deleting_a_list_stops_every_write_first_and_resumes,
    crate::lists::reads_check_membership_in_one_round_trip => lists_reads_check_membership_in_one_round_trip,
    crate::lists::lists_are_created_within_the_limit_and_paged_with_roles => lists_are_created_within_the_limit_and_paged_with_roles,
    crate::lists::list_updates_are_conditional_on_version_and_membership => lists_list_updates_are_conditional_on_version_and_membership,
    crate::blobs::presigned_put_then_get_round_trips_exact_bytes => blobs_presigned_put_then_get_round_trips_exact_bytes,
    crate::blobs::delete_removes_the_object_and_is_idempotent => blobs_delete_removes_the_object_and_is_idempotent,
    crate::blobs::head_of_a_missing_object_is_none => blobs_head_of_a_missing_object_is_none,
    crate::users::insert_get_and_find_by_email => users_insert_get_and_find_by_email,
    crate::users::a_password_change_keeps_its_session_in_the_same_write => users_a_password_change_keeps_its_session_in_the_same_write,
    crate::users::one_email_one_account_even_concurrently => users_one_email_one_account_even_concurrently,
    crate::users::replace_is_conditional_on_version => users_replace_is_conditional_on_version,
    crate::users::changing_email_moves_the_guard => users_changing_email_moves_the_guard,
    crate::users::sessions_rotate_conditionally_and_revoke => users_sessions_rotate_conditionally_and_revoke,
    crate::users::sessions_are_isolated_per_user => users_sessions_are_isolated_per_user,
    crate::users::a_users_sessions_list_oldest_first_and_delete_by_id => users_a_users_sessions_list_oldest_first_and_delete_by_id,
    crate::users::account_cascade_leaves_nothing => users_account_cascade_leaves_nothing,
    crate::tasks::create_and_get_are_isolated_per_owner => tasks_create_and_get_are_isolated_per_owner,
    crate::tasks::create_needs_an_existing_owner => tasks_create_needs_an_existing_owner,
    crate::tasks::idempotent_create_replays => tasks_idempotent_create_replays,
    crate::tasks::concurrent_idempotent_creates_make_one_task => tasks_concurrent_idempotent_creates_make_one_task,
    crate::tasks::an_expired_idempotency_key_is_free_again => tasks_an_expired_idempotency_key_is_free_again,
    crate::tasks::updates_are_conditional_on_version => tasks_updates_are_conditional_on_version,
    crate::tasks::a_spawned_occurrence_is_created_with_its_update_or_not_at_all => tasks_a_spawned_occurrence_is_created_with_its_update_or_not_at_all,
    crate::tasks::deletes_are_conditional => tasks_deletes_are_conditional,
    crate::tasks::a_deleted_account_spawns_no_occurrence => tasks_a_deleted_account_spawns_no_occurrence,
    crate::tasks::pages_cover_every_task_exactly_once => tasks_pages_cover_every_task_exactly_once,
    crate::tasks::filtered_pages_cover_every_match_exactly_once => tasks_filtered_pages_cover_every_match_exactly_once,
    crate::tasks::a_resume_key_never_crosses_owners => tasks_a_resume_key_never_crosses_owners,
    crate::tasks::open_tasks_cost_a_page_whatever_the_history => tasks_open_tasks_cost_a_page_whatever_the_history,
    crate::throttle::a_burst_gets_six_checks_then_locks_double_and_counts_are_forgotten => throttle_a_burst_gets_six_checks_then_locks_double_and_counts_are_forgotten,
}

/// The call log refuses a Scan before it reaches the table: the "no Scan" promise above is
/// enforced, not just hoped for.
#[tokio::test]
async fn a_scan_through_the_adapters_client_is_refused() {
    let backend = support::Backend::dynamodb().await;
    let error = backend.adapter_client().scan().table_name("any").send().await.expect_err("Scan must be refused");
    assert!(format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(error)).contains("Scan is not allowed"));
}

/// No adapter or function source calls Scan (tests may, to inspect tables).
#[test]
fn no_scan_in_any_request_path_source() {
    let functions = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut offenders = Vec::new();
    let mut stack = vec![functions.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().is_some_and(|name| name != "tests" && name != "target") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let source = std::fs::read_to_string(&path).unwrap();
                if source.contains(".scan()") || source.contains("ScanInput") {
                    offenders.push(path.display().to_string());
                }
            }
        }
    }
    assert!(offenders.is_empty(), "Scan used in: {offenders:?}");
}
