"""The one catalogue of user-facing text, in English and Chinese.

Every sentence a user reads (CLI output, Status and reminder texts, notifications, the status page)
is looked up here by key and filled with named fields, so the Chinese text is written as Chinese, never
made by slicing or translating the English one. Keys are grouped by the part of the product that says
them; each group keeps its keys together so parallel additions stay apart.
"""

from __future__ import annotations

LANGUAGES = ("en", "zh")

EN: dict[str, str] = {
    # cli
    "cli.sync_done": "{count} opportunities: {changes}",
    # hostile (secrets, tokens, config safety)
    "hostile.init_secrets": "Webhook secrets, one per source (shown once; kept in {path}, readable only by you):",
    "hostile.init_token": "API token for /api/status (send `Authorization: Bearer <token>`): {token}",
    "hostile.paste.generic": "paste into your website's code that signs each post (X-Sheetsync-Signature, see "
                             "the README's Webhook intake)",
    "hostile.paste.google-forms": "Apps Script > Project Settings > Script properties > SHEETSYNC_SECRET",
    "hostile.paste.jiandaoyun": "简道云 makes its own secret: copy the one shown in 数据推送 over this one in "
                                "[secrets]",
    "hostile.paste.typeform": "Typeform > Connect > Webhooks > Edit > Secret",
    "hostile.paste.tally": "Tally > Integrations > Webhooks > Signing secret",
    "hostile.paste.followup": "the phone follow-up form's sender signs with it like the generic source",
    "hostile.token_required": "This needs the API token: send `Authorization: Bearer <api_token>` with the "
                              "api_token from sheetsync.toml (or SHEETSYNC_API_TOKEN).",
    "hostile.token_unset": "No api_token is configured, so this stays closed: run `sheetsync init` (it adds one) "
                           "or set api_token in sheetsync.toml or SHEETSYNC_API_TOKEN, then send "
                           "`Authorization: Bearer <api_token>`.",
    "hostile.no_secret": "Source '{source}' has no secret configured, so sheetsync refuses unsigned posts to it: "
                         "put the form's signing secret under [secrets] in sheetsync.toml ({source} = [\"…\"]) "
                         "or set {env}; to accept unsigned posts anyway, add \"{source}\" to allow_unsigned.",
    "hostile.unsigned_allowed": "Source '{source}' accepts unsigned posts (allow_unsigned): anyone who knows "
                                "the address can add leads. Set a secret for it and remove it from allow_unsigned.",
    "hostile.unsigned_warning": "Source '{source}' is listed in allow_unsigned, so anyone can post to it: set a "
                                "secret under [secrets] or {env} and remove it from allow_unsigned.",
    "hostile.no_secret_start": "Source '{source}' has no secret, so it refuses every post until you set one "
                               "under [secrets] or {env}.",
    # review: history origins, Summary review, Trends, zh habits
    "review.origin_sync": "sync",
    "review.origin_sheet": "sheet edit",
    "review.origin_form": "form ({source})",
    "review.origin_handover": "handover from {name}",
    "review.origin_reclaimed": "reclaimed",
    "review.deleted": "Deleted",
    "review.join": "; ",
    # nothinglost: one writer, needs attention, safe advice, files that refuse
    "nothinglost.busy": "{holder} is syncing {what}; try again in a moment.",
    "nothinglost.busy_unknown": "Another sheetsync process is syncing {what}; try again in a moment.",
    "nothinglost.attention_reminder": "Form submission {key} needs attention: {reason} "
                                      "Run `sheetsync queue retry {key}` once fixed, or `sheetsync queue drop {key}`.",
    "nothinglost.manager": "(manager)",
    "nothinglost.repair_restored": "sync repair: put back a value the sheet held before a write during an edit",
    "nothinglost.repair_moved": "sync repair: moved to its own row after rows moved during a write",
    "nothinglost.repair_dropped": "sync repair: not written, its row was deleted during the write",
    "nothinglost.read_only_file": "The workbook {path} is read-only, so sheetsync wrote nothing: make it writable "
                                  "(file Properties > untick Read-only, or `chmod u+w`) or point `workbook` at a copy.",
    "nothinglost.renamed_guess": " If it was renamed: '{header}' is the only header here sheetsync does not know.",
    "nothinglost.not_added.id": "Did not add '{column}' to '{title}': it has rows, and an empty ID column would give "
                                "every row a new ID (History would lose track of every deal). Rename the ID column "
                                "back to '{en}' or '{zh}', or undo its deletion.",
    "nothinglost.not_added.owner": "Did not add '{column}' to '{title}': it has rows, and an empty Owner column would "
                                   "make the next sync assign every open deal again. Rename the owner column back to "
                                   "'{en}' or '{zh}', or add the column yourself if the tab never had one (the next "
                                   "sync then assigns every open deal).",
    "nothinglost.not_added.stage": "Did not add '{column}' to '{title}': it has rows, and an empty Stage column would "
                                   "put every deal back at the first stage. Rename the stage column back to '{en}' or "
                                   "'{zh}', or add the column yourself if the tab never had one.",
    "nothinglost.not_added.last_contact": "Did not add '{column}' to '{title}': it has rows, and an empty column would "
                                          "be filled from Follow-ups, hiding the dates people typed. Rename it back to "
                                          "'{en}' or '{zh}', or add it yourself if the tab never had one.",
    "nothinglost.not_added.next_follow_up": "Did not add '{column}' to '{title}': it has rows, and an empty column "
                                            "would be filled with proposed dates, hiding the ones people planned. "
                                            "Rename it back to '{en}' or '{zh}', or add it yourself if the tab never "
                                            "had one.",
    "nothinglost.missing_system": "Column '{en}' ({zh}) is missing from '{title}': run `sheetsync init` to add it "
                                  "(sheetsync fills it; nothing people typed changes).",
    "nothinglost.missing_renamed": "Column '{en}' ({zh}) is missing from '{title}': it was probably renamed to "
                                   "'{header}', the only header here sheetsync does not know. If so, rename "
                                   "'{header}' back to '{en}' (or {zh}) and sync again; adding a "
                                   "new empty column instead would make sheetsync treat every row as blank there.",
    "nothinglost.missing_renamed_one_of": "Column '{en}' ({zh}) is missing from '{title}': one of {headers} is "
                                          "probably it, renamed. Rename that one back to '{en}' (or {zh}) and sync "
                                          "again; adding a new empty column instead would make sheetsync treat every "
                                          "row as blank there.",
    "nothinglost.missing_deleted": "Column '{en}' ({zh}) is missing from '{title}': if it was deleted, undo that or "
                                   "restore it from the version history; if the tab never had it, add a column headed "
                                   "'{en}' yourself (sheetsync then fills its blank cells).",
    "nothinglost.reassign_refused": "This sync stopped before writing: it would assign owners again to {count} of the "
                                    "{had} deals that had an owner at the last sync ({ids}), because their {column} "
                                    "cells are blank now. If the owner column was renamed, cleared or pasted over by "
                                    "mistake, undo that (rename it back, or restore the values from the version "
                                    "history). To reassign them on purpose, set owner_reassign_share = 1 in "
                                    "sheetsync.toml for one sync (it is {share} now).",
    "nothinglost.read_only_folder": "The folder {folder} is read-only, so sheetsync cannot save {path} there and wrote "
                                    "nothing: make the folder writable or move the workbook (setting `workbook`).",
    # discipline
    "discipline.duplicate": "Possible duplicate of {id} (same {signal})",
    "discipline.duplicate_similar": "Possible duplicate of {id} (similar company name: {name})",
    "discipline.signal.phone": "phone",
    "discipline.signal.email": "email",
    "discipline.signal.name": "company name",
    "discipline.routed": "Same customer as {id}: routed to its owner",
    "discipline.merged": "Form re-submission ({source}): {details}",
    "discipline.merged_channel": "Form",
    # page: the CLI that talks (serve/worker log lines, Ctrl+C, busy port, progress)
    "page.serving": "sheetsync: webhook on {url}/hooks/<source>, status page on {url}/ (log in with api_token), "
                    "store {store}, sync every {interval} s. Ctrl+C stops.",
    "page.worker_started": "sheetsync worker: store {store}, flush every {flush} s, sync every {interval} s. "
                           "Ctrl+C stops.",
    "page.sync_line": "sync: {report} ({seconds:.1f} s, {requests})",
    "page.flush_line": "flush: {landed} landed, {already} already in the sheet, {waiting} waiting, {retry} to retry "
                       "({seconds:.1f} s, {requests})",
    "page.requests": "{count} requests",
    "page.no_requests": "no API requests",
    "page.sync_failed": "sync failed, nothing was written; it runs again in {interval} s: {error}",
    "page.sync_crashed": "sync failed with an unexpected error ({error}); nothing was written and it runs again in "
                         "{interval} s. Run with -v for the details and report them if it keeps happening.",
    "page.flush_crashed": "intake flush failed with an unexpected error ({error}); submissions stay queued. Run "
                          "with -v for the details.",
    "page.finishing": "Stopping: finishing the current write… (the sheet and the queue stay consistent)",
    "page.still_finishing": "Still finishing the current write; sheetsync stops as soon as it is saved.",
    "page.stopped": "Stopped.",
    "page.port_busy": "Port {port} on {host} is already in use (another sheetsync serve?): stop that program, or "
                      "choose another port with --port, `port` in sheetsync.toml or SHEETSYNC_PORT.",
    "page.port_denied": "Not allowed to listen on port {port} on {host} (ports below 1024 need root): choose "
                        "another port with --port, `port` in sheetsync.toml or SHEETSYNC_PORT.",
    "page.host_bad": "Cannot listen on {host}:{port} ({error}): set `host` in sheetsync.toml or SHEETSYNC_HOST to "
                     "an address of this machine, such as 127.0.0.1 or 0.0.0.0.",
    "page.step_read": "Reading {store}…",
    "page.step_plan": "Planning {rows} rows…",
    "page.step_write": "Writing {cells} cells…",
    "page.synced": "Synced {store}: {report}.",
    "page.init_no_tab": "{workbook} has no tab named '{tab}' (its tabs are {titles}): give the exact tab title "
                        "to --tab, as it shows on the tab.",
    "page.worker_never": "No worker has run yet: start `sheetsync serve` (or `sheetsync worker` beside gunicorn) so "
                         "the queue reaches the sheet.",
    "page.worker_stale": "The worker ({process}, pid {pid} on {host}) last reported {age} s ago: it has stopped or "
                         "hangs. Start `sheetsync worker` (or `sheetsync serve`) again.",
    "page.worker_stopped": "The worker ({process}, pid {pid} on {host}) stopped at {when}: start `sheetsync worker` "
                           "(or `sheetsync serve`) again.",
    "page.worker_ok": "The worker ({process}, pid {pid} on {host}) is running.",
    # notify
    "notify.assigned_title": "New lead for you: {customer}",
    "notify.assigned_customer": "Customer: {customer}",
    "notify.assigned_contact": "Contact: {contact}",
    "notify.assigned_need": "Need: {need}",
    "notify.assigned_phone": "Phone: {phone}",
    "notify.assigned_id": "ID: {id}",
    "notify.assigned_why": "Why you: {rule}",
    "notify.assigned_from": "Handed over from {previous}.",
    "notify.assigned_many_title": "{count} new leads for you",
    "notify.assigned_many_line": "- {id} {details} (why you: {rule})",
    "notify.none": "(none)",
    "notify.item": "- {id} {customer}: {reason}",
    "notify.daily_title": "Your pipeline for {day}: {count} to do",
    "notify.daily_overdue": "Overdue follow-ups ({count})",
    "notify.daily_due_today": "Due today ({count})",
    "notify.daily_approval": "Awaiting approval ({count})",
    "notify.daily_fix": "Problems to fix ({count})",
    "notify.weekly_title": "Weekly pipeline review, week of {monday}",
    "notify.weekly_funnel": "Open funnel",
    "notify.weekly_stage": "- {stage}: {count} deals, {amount}",
    "notify.weekly_won": "Won this week: {count} deals, {amount}",
    "notify.weekly_lost": "Lost this week: {count} deals",
    "notify.weekly_deal": "- {id} {customer} ({owner}) {detail}",
    "notify.weekly_behind": "Who is behind (overdue follow-ups)",
    "notify.weekly_behind_line": "- {owner}: {count} overdue, oldest {days} days",
    "notify.weekly_stale": "Stale deals ({count})",
    "notify.test_title": "sheetsync test message",
    "notify.test_body": "If you can read this, sheetsync can reach {recipient} on this channel.",
    "notify.cli_sent": "Notifications: {sent} sent, {failed} failed (serve or worker retries them later).",
    "notify.status.queue": "Queue: {depth} waiting, {attention} need attention, oldest {oldest}.",
    "notify.status.flush": "Last flush: {at} ({result}).",
    "notify.status.sync": "Last sync: {at}: {result}.",
    "notify.status.sync_error": "Last sync error ({at}): {error}",
    "notify.status.notifications": "Notifications: {pending} waiting ({retrying} retrying), {sent} sent, {failed} "
                                   "failed.",
    "notify.status.notify_error": "Last notification error ({at}): {error}",
    "notify.status.funnel": "Funnel ({where}):",
    "notify.status.funnel_unreadable": "Funnel: the spreadsheet could not be read: {error}",
    "notify.digest.use_preview": "Digests are sent by serve or worker at notify_daily_at and notify_weekly_at; run "
                                 "`sheetsync digest --preview` to see today's.",
    "notify.digest.nobody": "No digest today for '{name}': use a name from the Team tab (or 'manager'); people with "
                            "nothing due get none.",
    "notify.digest.none": "No digests today: nobody has anything overdue, due, awaiting approval or to fix.",
    "notify.digest.header": "=== To {name} via {where}",
    "notify.digest.nowhere": "no channel (would not be sent)",
    "notify.digest.problem": "    (!) {problem}",
    "notify.doctor.fix": "Fix: {fix}",
    "notify.doctor.summary_ok": "All {total} checks passed.",
    "notify.doctor.summary_failed": "{failed} of {total} checks failed: fix them from the top, then run `sheetsync "
                                    "doctor` again.",
    "notify.doctor.config_bad_fix": "Correct that setting in sheetsync.toml (or the SHEETSYNC_* variable named), "
                                    "then run `sheetsync doctor` again.",
    "notify.doctor.config_missing": "Config: no sheetsync.toml in {where}.",
    "notify.doctor.config_missing_fix": "Run `sheetsync init` here, or point at the file with --config PATH or "
                                        "SHEETSYNC_CONFIG.",
    "notify.doctor.config_open": "Config: {path} can be read by other users (mode {mode}) and it holds webhook "
                                 "secrets.",
    "notify.doctor.config_open_fix": "Run `chmod 600 {path}`.",
    "notify.doctor.config_ok": "Config: {path} (store {store}, template {template}).",
    "notify.doctor.credentials_none": "Credentials: none needed for a local workbook.",
    "notify.doctor.credentials_loopback": "Credentials: none needed for the local endpoint {endpoint}.",
    "notify.doctor.credentials_missing": "Credentials: no Google service-account key is configured.",
    "notify.doctor.credentials_fix": "Set google_credentials to the service-account JSON key file (README: Google "
                                     "Sheets, steps 1-2), or put the JSON in SHEETSYNC_GOOGLE_CREDENTIALS_JSON.",
    "notify.doctor.credentials_ok": "Credentials: service account {email}.",
    "notify.doctor.workbook_missing": "Spreadsheet: the workbook {path} does not exist.",
    "notify.doctor.workbook_missing_fix": "Run `sheetsync init` to create it, or fix workbook in sheetsync.toml.",
    "notify.doctor.workbook_readonly": "Spreadsheet: {path} or its folder is read-only, so sheetsync cannot save it.",
    "notify.doctor.workbook_readonly_fix": "Make {path} and its folder writable for this user (e.g. `chmod u+w`), "
                                           "or move the workbook somewhere writable.",
    "notify.doctor.store_fix": "Follow the advice in the message above, then run `sheetsync doctor` again.",
    "notify.doctor.share_fix": "Open the spreadsheet, press Share and add {email} as Editor.",
    "notify.doctor.shared_ok": "Spreadsheet: {where} is reachable and shared with {email}.",
    "notify.doctor.workbook_ok": "Spreadsheet: {where} opens and can be saved.",
    "notify.doctor.not_checked": "Tabs and headers: not checked, the spreadsheet could not be read.",
    "notify.doctor.fix_above": "Fix the spreadsheet line above first.",
    "notify.doctor.layout_fix": "Do what the message says, or run `sheetsync init` to add missing tabs and columns "
                                "(it keeps everything people typed).",
    "notify.doctor.layout_ok": "Tabs and headers: all {count} tabs found with every column a sync needs.",
    "notify.doctor.queue_attention": "Queue: {count} form submissions need attention and will not land on their own.",
    "notify.doctor.queue_attention_fix": "Run `sheetsync queue list` to see why, fix the cause, then `sheetsync "
                                         "queue retry ID`.",
    "notify.doctor.queue_stuck": "Queue: {count} submissions waiting, the oldest for {minutes} minutes: no flush is "
                                 "running.",
    "notify.doctor.queue_stuck_fix": "Start `sheetsync serve` (or `sheetsync worker` beside gunicorn) and keep it "
                                     "running.",
    "notify.doctor.queue_ok": "Queue: {count} submissions waiting, none stuck or needing attention.",
    "notify.doctor.backend_down": "Queue: the state database cannot be opened: {error}",
    "notify.doctor.backend_fix": "Check database_url (PostgreSQL must be reachable) or that state_dir is writable.",
    "notify.doctor.secret_ok": "Secret {source}: signed ({count} secret(s)).",
    "notify.doctor.secret_unsigned": "Secret {source}: accepts unsigned posts (listed in allow_unsigned).",
    "notify.doctor.secret_missing": "Secret {source}: no secret, so every post to /hooks/{source} is refused.",
    "notify.doctor.secret_fix": "Run `sheetsync init` (it adds a secret for {source} and prints it once), or list "
                                "{source} in allow_unsigned.",
    "notify.doctor.clock_behind": "Clock: this machine says {now}, earlier than the last sync it recorded ({last}).",
    "notify.doctor.clock_fix": "Set the system clock right (turn on NTP time sync, e.g. `timedatectl set-ntp true`).",
    "notify.doctor.zone_differs": "Clock: the spreadsheet's timezone is {sheet} but sheetsync uses {zone}; dates "
                                  "would shift.",
    "notify.doctor.zone_fix": "Set timezone = \"{sheet}\" in sheetsync.toml (or change the spreadsheet's timezone "
                              "under File > Settings).",
    "notify.doctor.clock_ok": "Clock: {local} in {zone} (UTC{offset}).",
    "notify.doctor.channels_off": "Notifications: not set up, so nobody is told about new leads or gets digests.",
    "notify.doctor.channels_off_fix": "Put each person's chat robot URL in Team's IM id (e.g. wecombot://KEY) or "
                                      "set notify_smtp for their Email; see README: Notifications.",
    "notify.doctor.manager": "the manager",
    "notify.doctor.manager_missing": "Channel for the manager: notify_manager is not set, so the weekly digest goes "
                                     "nowhere.",
    "notify.doctor.manager_fix": "Set notify_manager to the manager's apprise URL, e.g. notify_manager = "
                                 "\"dingtalk://SECRET@TOKEN\".",
    "notify.doctor.channel_bad": "Channel for {name}: {problems}",
    "notify.doctor.channel_fix": "Correct the Team cell or setting named above (README: Notifications has one "
                                 "example per chat tool).",
    "notify.doctor.channel_ok": "Channel for {name}: {where}.",
    "notify.doctor.test_sent": "Channel for {name}: test message sent to {where}.",
    "notify.doctor.test_failed": "Channel for {name}: the test message failed: {error}",
    "notify.doctor.test_fix": "Check the robot's key/token and secret in the URL (a signed DingTalk/Feishu robot "
                              "needs SECRET@TOKEN) and that this machine can reach the chat tool.",
    # page: sheetsync import
    "page.import.no_customer": "no Customer (company name): fill it in the file",
    "page.import.no_contact_way": "neither Phone nor Email: add one so the owner can reach them",
    "page.import.no_customer_column": "No column of {file} is the customer (company name):"
                                      " name one with --map \"Your header=Customer\".",
    "page.import.read": "{file}: {rows} rows; columns used: {columns}.",
    "page.import.unmatched": "Not imported (no matching column): {headers}. Map one with --map"
                             " \"Header=Column\", or --map \"Header=-\" to leave it out quietly.",
    "page.import.progress": "Importing",
    "page.import.summary": "{imported} imported, {merged} merged into deals already there, {rejected} rejected.",
    "page.import.imported_line": "  row {line}: {customer} -> {id}, owner {owner}",
    "page.import.merged_head": "Merged (same customer as a deal already there; only its blank cells were filled):",
    "page.import.merged_line": "  row {line}: {customer} -> {id} (same {signal}){filled}",
    "page.import.filled": ", filled {columns}",
    "page.import.rejected_head": "Rejected:",
    "page.import.rejected_line": "  row {line}: {reason}",
    "page.import.flagged_head": "Imported, but similar to a deal already there (see Status):",
    "page.import.flagged_line": "  row {line}: {id}: {note}",
    "page.import.more": "  … and {n} more",
    "page.import.dry_run": "Dry run: nothing was written. Run again without --dry-run to import.",
    "page.import.done": "Written to {store}.",
    "page.import.dedupe_rules": "Duplicates are found by phone, email and company name, as for 撞单.",
    "page.import.stopped": "{error} ({done} of {total} rows were handled before this; running the same import "
                           "again is safe: rows already imported are found as duplicates and merged.)",
    "discipline.handover_rule": "Handover from {name}",
    "discipline.reclaim_rule": "Reclaimed to the pool (no follow-up in time)",
    "discipline.handover_stuck": "Nobody can take over this deal from {name}: {reason}",
    "discipline.last_followup": "last follow-up {day}: {summary}",
    "discipline.no_followup": "no follow-up logged yet",
    "discipline.no_next_step": "none written",
    "discipline.inherited": "Inherited from {name} (handover); {last}; next step: {step}",
    "discipline.inherited_reclaim": "Reclaimed from {name} (no follow-up in time); {last}; next step: {step}",
    "discipline.reclaimed_from_you": "Reclaimed: no follow-up in time, the deal is now with {name}",
    "discipline.report_moves": "{handed} handed over, {reclaimed} reclaimed",
    # plan
    "plan.report": ("{rows} opportunities: {ids} new IDs, {owners} owners assigned, {last_contacts} last contacts, "
                    "{proposals} follow-ups proposed, {problems} rows with problems, {reminders} reminders, "
                    "{history} changes logged"),
    "plan.report_join": ", ",
    "plan.report_unchanged": " (nothing changed since the last sync: not planned again)",
    "discipline.cli_nothing": "{name} has no open deals: nothing to hand over.",
    "discipline.cli_dry_run": "Dry run, nothing written: {count} open deal(s) of {name} would move.",
    "discipline.cli_done": "Handed over {count} open deal(s) of {name}; the new owners see them in Reminders.",
    "discipline.cli_move": "  {id}  {customer}: {previous} -> {owner} ({rule})",
    "discipline.customer_won": "Won",
    "discipline.page_title": "Log a follow-up",
    "discipline.page_hello": "Hello {name}: pick the deal, say what happened (the microphone on your keyboard works), "
                             "and when to follow up next.",
    "discipline.page_deal": "Deal (customer or ID)",
    "discipline.page_channel": "How",
    "discipline.page_channels": "Phone|Visit|WeChat|Email|Meeting|Other",
    "discipline.page_summary": "What happened",
    "discipline.page_next": "Next follow-up",
    "discipline.page_save": "Save",
    "discipline.page_pick": "Pick one of your deals from the list (type the customer or the OPP- ID).",
    "discipline.page_no_summary": "Write what happened in the summary box.",
    "discipline.page_bad_date": "'{value}' is not a date: pick one in the date box.",
    "discipline.page_saved": "Saved for {id}: it reaches the sheet within a minute.",
    "discipline.page_again": "Log another",
    "discipline.cli_link": "Follow-up link for {name} (valid until {until}; send it to them only):",
    "discipline.cli_no_secret": "The followup source has no secret: run `sheetsync init` (it adds one) or set "
                                "[secrets] followup.",
    "discipline.customer_reopened": "Re-opened: the deal is back in {stage} (row kept)",
    "discipline.deal_reopened": "Re-opened after Won: its Customers row is kept and flagged",
    "discipline.the_manager": "the manager",
    "discipline.awaiting": "Awaiting approval ({manager})",
    "discipline.approve": "Approve this deal for {stage} (owner {owner}): write Approved or Rejected in Approval",
    "discipline.skipped_gate": "Moved past {stage} without approval: ask {manager} to approve it in Approval",
    # page: the status page at /
    "page.web.title": "Pipeline status",
    "page.web.updated": "As of {time} ({zone})",
    "page.web.refresh": "Refresh",
    "page.web.logout": "Log out",
    "page.web.login_title": "Open the status page",
    "page.web.login_help": "Enter the API token from sheetsync.toml (api_token) or SHEETSYNC_API_TOKEN.",
    "page.web.login_field": "API token",
    "page.web.login_button": "Open",
    "page.web.login_wrong": "That token does not match api_token: copy it again from sheetsync.toml (no spaces).",
    "page.web.login_unset": "The status page is closed because no api_token is set: run `sheetsync init` (it "
                            "writes one) or set api_token in sheetsync.toml or SHEETSYNC_API_TOKEN, then restart.",
    "page.web.funnel": "Funnel",
    "page.web.by_amount": "By amount",
    "page.web.by_count": "By number of deals",
    "page.web.stage": "Stage",
    "page.web.deals": "Deals",
    "page.web.amount": "Amount",
    "page.web.open_total": "Open pipeline: {count} deals, {amount}",
    "page.web.won": "Won",
    "page.web.lost": "Lost",
    "page.web.no_deals": "No deals yet: type a row into the Opportunities tab or post a form.",
    "page.web.owners": "People",
    "page.web.owner": "Owner",
    "page.web.open": "Open",
    "page.web.overdue_count": "Overdue",
    "page.web.won_month": "Won this month",
    "page.web.target": "Target",
    "page.web.no_target": "—",
    "page.web.overdue": "Overdue follow-ups",
    "page.web.overdue_none": "No overdue follow-ups.",
    "page.web.overdue_more": "…and {n} more in the Reminders tab.",
    "page.web.days_late": "{n} d late",
    "page.web.customer": "Customer",
    "page.web.due": "Due",
    "page.web.queue": "Form intake",
    "page.web.queue_depth": "Waiting to land",
    "page.web.queue_oldest": "Oldest waiting",
    "page.web.queue_retrying": "Being retried",
    "page.web.queue_empty": "Every submission has landed.",
    "page.web.attention": "Needs attention ({n})",
    "page.web.attention_help": "Fix the cause, then run `sheetsync queue retry ID` (or `sheetsync queue drop ID`).",
    "page.web.jobs": "Sync and intake",
    "page.web.last_sync": "Last sync",
    "page.web.last_flush": "Last intake flush",
    "page.web.never": "not yet",
    "page.web.ago": "{when} ({n} {unit} ago)",
    "page.web.unit_s": "s",
    "page.web.unit_min": "min",
    "page.web.unit_h": "h",
    "page.web.unit_d": "d",
    "page.web.last_error": "Last error ({when}): {error}",
    "page.web.error_fixed": "Since then it ran without errors.",
    "page.web.sheet_problem": "The sheet could not be read: {problem}",
    "page.web.worker": "Worker",
    "page.web.unknown_stage": "(unknown stage)",
}

ZH: dict[str, str] = {
    # cli
    "cli.sync_done": "共 {count} 条商机：{changes}",
    # hostile (secrets, tokens, config safety)
    "hostile.init_secrets": "各来源的 Webhook 密钥（只显示这一次；保存在 {path}，只有你能读取）：",
    "hostile.init_token": "/api/status 的 API 令牌（请求头 `Authorization: Bearer <令牌>`）：{token}",
    "hostile.paste.generic": "填入网站签名每次提交的代码（X-Sheetsync-Signature，见 README 的 Webhook intake）",
    "hostile.paste.google-forms": "Apps Script > 项目设置 > 脚本属性 > SHEETSYNC_SECRET",
    "hostile.paste.jiandaoyun": "简道云会自己生成密钥：把 数据推送 里显示的密钥复制到 [secrets] 替换这一个",
    "hostile.paste.typeform": "Typeform > Connect > Webhooks > Edit > Secret",
    "hostile.paste.tally": "Tally > Integrations > Webhooks > Signing secret",
    "hostile.paste.followup": "手机跟进表单的发送方用它签名，方式同 generic 来源",
    "hostile.token_required": "需要 API 令牌：请求头加上 `Authorization: Bearer <api_token>`，令牌见 sheetsync.toml 的 "
                              "api_token（或 SHEETSYNC_API_TOKEN）。",
    "hostile.token_unset": "尚未配置 api_token，因此此处不开放：运行 `sheetsync init`（会生成一个），"
                           "或在 sheetsync.toml 或 SHEETSYNC_API_TOKEN 中设置 api_token，"
                           "再发送 `Authorization: Bearer <api_token>`。",
    "hostile.no_secret": "来源“{source}”没有配置密钥，sheetsync 拒绝未签名的提交："
                         "把表单的签名密钥写入 sheetsync.toml 的 [secrets]（{source} = [\"…\"]）或设置 {env}；"
                         "如确需接受未签名提交，把 \"{source}\" 加入 allow_unsigned。",
    "hostile.unsigned_allowed": "来源“{source}”接受未签名提交（allow_unsigned）：知道地址的任何人都能添加线索。"
                                "请为它设置密钥并从 allow_unsigned 中移除。",
    "hostile.unsigned_warning": "来源“{source}”在 allow_unsigned 中，任何人都能向它提交：请在 [secrets] 或 {env} "
                                "设置密钥，并从 allow_unsigned 中移除。",
    "hostile.no_secret_start": "来源“{source}”没有密钥，在设置之前会拒绝所有提交：请在 [secrets] 或 {env} 中设置。",
    # review: history origins, Summary review, Trends, zh habits
    "review.origin_sync": "系统同步",
    "review.origin_sheet": "表格编辑",
    "review.origin_form": "表单（{source}）",
    "review.origin_handover": "离职交接（原负责人 {name}）",
    "review.origin_reclaimed": "公海收回",
    "review.deleted": "已删除",
    "review.join": "；",
    # nothinglost
    "nothinglost.busy": "{holder} 正在同步 {what}，请稍后再试。",
    "nothinglost.busy_unknown": "另一个 sheetsync 进程正在同步 {what}，请稍后再试。",
    "nothinglost.attention_reminder": "表单提交 {key} 需要处理：{reason} "
                                      "处理后运行 `sheetsync queue retry {key}`，"
                                      "或运行 `sheetsync queue drop {key}` 放弃。",
    "nothinglost.manager": "（主管）",
    "nothinglost.repair_restored": "同步修复：写入时表格被改动，已恢复原有内容",
    "nothinglost.repair_moved": "同步修复：写入时行被移动，已移回所属行",
    "nothinglost.repair_dropped": "同步修复：写入时该行被删除，未写入",
    "nothinglost.read_only_file": "工作簿 {path} 是只读的，sheetsync 没有写入任何内容：请取消只读"
                                  "（文件属性 > 取消勾选“只读”，或 `chmod u+w`），或把 `workbook` 指向一个副本。",
    "nothinglost.renamed_guess": "如果是被改名了：「{header}」是这里 sheetsync 唯一不认识的表头。",
    "nothinglost.not_added.id": "没有向「{title}」添加「{column}」列：该表已有数据，空的编号列会让每一行得到新编号（"
                                "变更记录将无法对应原商机）。请把编号列改回「{en}」或「{zh}」，"
                                "或撤销删除。",
    "nothinglost.not_added.owner": "没有向「{title}」添加「{column}」列：该表已有数据，空的负责人列会让下次同步重新分"
                                   "配所有进行中的商机。请把负责人列改回「{en}」或「{zh}」；"
                                   "如果该表从未有过这一列，请自行添加（下次同步会为所有进行中的商机分配负责人）。",
    "nothinglost.not_added.stage": "没有向「{title}」添加「{column}」列：该表已有数据，空的阶段列会把所有商机退回第一"
                                   "个阶段。请把阶段列改回「{en}」或「{zh}」；"
                                   "如果该表从未有过这一列，请自行添加。",
    "nothinglost.not_added.last_contact": "没有向「{title}」添加「{column}」列：该表已有数据，空列会按跟进记录填写，"
                                          "掩盖大家填写过的日期。请把它改回「{en}」或「{zh}」；"
                                          "如果从未有过这一列，请自行添加。",
    "nothinglost.not_added.next_follow_up": "没有向「{title}」添加「{column}」列：该表已有数据，空列会被填入建议日期"
                                            "，掩盖大家计划的日期。请把它改回「{en}」或「{zh}」；"
                                            "如果从未有过这一列，请自行添加。",
    "nothinglost.missing_system": "「{title}」缺少「{zh}」（{en}）列：运行 `sheetsync init` 添加（由 sheetsync 填写，"
                                  "不会改动大家填写的内容）。",
    "nothinglost.missing_renamed": "「{title}」缺少「{zh}」（{en}）列：它可能被改名为「{header}」"
                                   "（这里 sheetsync 唯一不认识的表头）。如果是，请把「{header}」"
                                   "改回「{zh}」（或 {en}）后再同步；"
                                   "如果另加一个空列，sheetsync 会把每一行都当作空白处理。",
    "nothinglost.missing_renamed_one_of": "「{title}」缺少「{zh}」（{en}）列：{headers} 中可能有一列就是它（表头被改"
                                          "名）。请把那一列改回「{zh}」（或 {en}）"
                                          "后再同步；如果另加一个空列，sheetsync 会把每一行都当作空白处理。",
    "nothinglost.missing_deleted": "「{title}」缺少「{zh}」（{en}）列：如果是被删除了，请撤销或从版本历史恢复；如果该"
                                   "表从未有过这一列，请自行添加表头为「{zh}」的列（"
                                   "sheetsync 之后会填写其中的空白单元格）。",
    "nothinglost.reassign_refused": "本次同步在写入前已停止：它将为上次同步时已有负责人的 {had} 条商机中的 {count} 条"
                                    "重新分配负责人（{ids}），因为它们的「{column}」"
                                    "现在是空的。如果负责人列被误改名、清空或覆盖，请先撤销（改回列名，或从版本历史恢"
                                    "复）。如确需重新分配，请在 sheetsync.toml 中设置 "
                                    "owner_reassign_share = 1 后同步一次（当前为 {share}）。",
    "nothinglost.read_only_folder": "文件夹 {folder} 是只读的，sheetsync 无法在其中保存 {path}，没有写入任何内容："
                                    "请让该文件夹可写，或把工作簿移到别处（设置 `workbook`）。",
    # discipline
    "discipline.duplicate": "疑似撞单：与 {id} {signal}相同",
    "discipline.duplicate_similar": "疑似撞单：与 {id} 公司名称相近（{name}）",
    "discipline.signal.phone": "电话",
    "discipline.signal.email": "邮箱",
    "discipline.signal.name": "公司名称",
    "discipline.routed": "撞单：与 {id} 为同一客户，归其负责人",
    "discipline.merged": "表单重复提交（{source}）：{details}",
    "discipline.merged_channel": "表单",
    # page: the CLI that talks (serve/worker log lines, Ctrl+C, busy port, progress)
    "page.serving": "sheetsync：表单接收地址 {url}/hooks/<来源>，状态页 {url}/（用 api_token 登录），存储 {store}，"
                    "每 {interval} 秒同步一次。按 Ctrl+C 停止。",
    "page.worker_started": "sheetsync 后台任务：存储 {store}，每 {flush} 秒写入表单，每 {interval} 秒同步一次。"
                           "按 Ctrl+C 停止。",
    "page.sync_line": "同步：{report}（{seconds:.1f} 秒，{requests}）",
    "page.flush_line": "写入表单：{landed} 条已写入，{already} 条表中已有，{waiting} 条等待，{retry} 条待重试"
                       "（{seconds:.1f} 秒，{requests}）",
    "page.requests": "{count} 次接口请求",
    "page.no_requests": "无接口请求",
    "page.sync_failed": "同步失败，未写入任何内容；{interval} 秒后再试：{error}",
    "page.sync_crashed": "同步遇到意外错误（{error}），未写入任何内容，{interval} 秒后再试。加 -v 运行可看详情，"
                         "如反复出现请报告。",
    "page.flush_crashed": "写入表单遇到意外错误（{error}），提交仍在队列中。加 -v 运行可看详情。",
    "page.finishing": "正在停止：完成当前写入……（表格和队列保持一致）",
    "page.still_finishing": "仍在完成当前写入，保存后立即停止。",
    "page.stopped": "已停止。",
    "page.port_busy": "{host} 的端口 {port} 已被占用（是否已有一个 sheetsync serve 在运行？）：请先停止该程序，"
                      "或用 --port、sheetsync.toml 中的 port 或 SHEETSYNC_PORT 换一个端口。",
    "page.port_denied": "无权监听 {host} 的端口 {port}（1024 以下的端口需要 root）：请用 --port、sheetsync.toml 中的 "
                        "port 或 SHEETSYNC_PORT 换一个端口。",
    "page.host_bad": "无法监听 {host}:{port}（{error}）：请把 sheetsync.toml 中的 host 或 SHEETSYNC_HOST 设为本机地址，"
                     "如 127.0.0.1 或 0.0.0.0。",
    "page.step_read": "正在读取 {store}……",
    "page.step_plan": "正在处理 {rows} 行……",
    "page.step_write": "正在写入 {cells} 个单元格……",
    "page.synced": "已同步 {store}：{report}。",
    "page.init_no_tab": "{workbook} 中没有名为「{tab}」的工作表（现有：{titles}）："
                        "请把工作表标签上的名称原样填给 --tab。",
    "page.worker_never": "后台任务还没有运行过：请启动 `sheetsync serve`（或在 gunicorn 旁启动 `sheetsync worker`），"
                         "表单才能写入表格。",
    "page.worker_stale": "后台任务（{process}，进程 {pid}，主机 {host}）{age} 秒前最后一次报告：已停止或卡住。"
                         "请重新启动 `sheetsync worker`（或 `sheetsync serve`）。",
    "page.worker_stopped": "后台任务（{process}，进程 {pid}，主机 {host}）已于 {when} 停止：请重新启动 "
                           "`sheetsync worker`（或 `sheetsync serve`）。",
    "page.worker_ok": "后台任务（{process}，进程 {pid}，主机 {host}）正在运行。",
    # notify
    "notify.assigned_title": "新商机分配给你：{customer}",
    "notify.assigned_customer": "客户：{customer}",
    "notify.assigned_contact": "联系人：{contact}",
    "notify.assigned_need": "需求：{need}",
    "notify.assigned_phone": "电话：{phone}",
    "notify.assigned_id": "编号：{id}",
    "notify.assigned_why": "分配依据：{rule}",
    "notify.assigned_from": "由 {previous} 移交。",
    "notify.assigned_many_title": "有 {count} 个新商机分配给你",
    "notify.assigned_many_line": "- {id} {details}（分配依据：{rule}）",
    "notify.none": "（无）",
    "notify.item": "- {id} {customer}：{reason}",
    "notify.daily_title": "{day} 今日待办：共 {count} 项",
    "notify.daily_overdue": "逾期跟进（{count}）",
    "notify.daily_due_today": "今天需跟进（{count}）",
    "notify.daily_approval": "待审批（{count}）",
    "notify.daily_fix": "需修正（{count}）",
    "notify.weekly_title": "销售周报（{monday} 这一周）",
    "notify.weekly_funnel": "在手商机漏斗",
    "notify.weekly_stage": "- {stage}：{count} 个，{amount}",
    "notify.weekly_won": "本周赢单：{count} 个，{amount}",
    "notify.weekly_lost": "本周流失：{count} 个",
    "notify.weekly_deal": "- {id} {customer}（{owner}）{detail}",
    "notify.weekly_behind": "跟进落后（逾期跟进）",
    "notify.weekly_behind_line": "- {owner}：逾期 {count} 项，最久 {days} 天",
    "notify.weekly_stale": "停滞商机（{count}）",
    "notify.test_title": "sheetsync 测试消息",
    "notify.test_body": "收到这条消息，说明 sheetsync 能通过这个渠道联系到 {recipient}。",
    "notify.cli_sent": "通知：已发送 {sent} 条，失败 {failed} 条（serve 或 worker 稍后重试）。",
    "notify.status.queue": "队列：{depth} 条等待，{attention} 条需处理，最早 {oldest}。",
    "notify.status.flush": "上次写入：{at}（{result}）。",
    "notify.status.sync": "上次同步：{at}：{result}。",
    "notify.status.sync_error": "上次同步出错（{at}）：{error}",
    "notify.status.notifications": "通知：{pending} 条待发（{retrying} 条重试中），已发 {sent} 条，失败 {failed} 条。",
    "notify.status.notify_error": "上次通知出错（{at}）：{error}",
    "notify.status.funnel": "漏斗（{where}）：",
    "notify.status.funnel_unreadable": "漏斗：无法读取表格：{error}",
    "notify.digest.use_preview": "待办和周报由 serve 或 worker 在 notify_daily_at、notify_weekly_at 发送；运行 "
                                 "`sheetsync digest --preview` 查看今天的内容。",
    "notify.digest.nobody": "今天没有给“{name}”的待办：请用团队表中的姓名（或 manager）；没有待办的人不会收到。",
    "notify.digest.none": "今天没有待办：没有逾期、到期、待审批或需修正的商机。",
    "notify.digest.header": "=== 发给 {name}，渠道：{where}",
    "notify.digest.nowhere": "无渠道（不会发送）",
    "notify.digest.problem": "    (!) {problem}",
    "notify.doctor.fix": "修复：{fix}",
    "notify.doctor.summary_ok": "全部 {total} 项检查通过。",
    "notify.doctor.summary_failed": "{total} 项检查中有 {failed} 项未通过：请从上往下修复，再运行 `sheetsync doctor`。",
    "notify.doctor.config_bad_fix": "在 sheetsync.toml（或提示中的 SHEETSYNC_* 环境变量）里改正该设置，再运行 "
                                    "`sheetsync doctor`。",
    "notify.doctor.config_missing": "配置：{where} 下没有 sheetsync.toml。",
    "notify.doctor.config_missing_fix": "在此目录运行 `sheetsync init`，或用 --config 路径 / SHEETSYNC_CONFIG "
                                        "指定配置文件。",
    "notify.doctor.config_open": "配置：{path} 其他用户可读（权限 {mode}），而其中保存着 Webhook 密钥。",
    "notify.doctor.config_open_fix": "运行 `chmod 600 {path}`。",
    "notify.doctor.config_ok": "配置：{path}（存储 {store}，模板 {template}）。",
    "notify.doctor.credentials_none": "凭据：本地工作簿无需凭据。",
    "notify.doctor.credentials_loopback": "凭据：本地端点 {endpoint} 无需凭据。",
    "notify.doctor.credentials_missing": "凭据：未配置 Google 服务账号密钥。",
    "notify.doctor.credentials_fix": "把 google_credentials 设为服务账号 JSON 密钥文件（见 README 的 Google Sheets "
                                     "第 1-2 步），或把 JSON 放进 SHEETSYNC_GOOGLE_CREDENTIALS_JSON。",
    "notify.doctor.credentials_ok": "凭据：服务账号 {email}。",
    "notify.doctor.workbook_missing": "表格：工作簿 {path} 不存在。",
    "notify.doctor.workbook_missing_fix": "运行 `sheetsync init` 创建，或改正 sheetsync.toml 中的 workbook。",
    "notify.doctor.workbook_readonly": "表格：{path} 或其所在文件夹是只读的，sheetsync 无法保存。",
    "notify.doctor.workbook_readonly_fix": "让当前用户可写 {path} 及其文件夹（如 `chmod u+w`），"
                                           "或把工作簿移到可写的位置。",
    "notify.doctor.store_fix": "按上面提示处理后，再运行 `sheetsync doctor`。",
    "notify.doctor.share_fix": "打开表格，点击“共享”，把 {email} 添加为编辑者。",
    "notify.doctor.shared_ok": "表格：{where} 可以访问，并已共享给 {email}。",
    "notify.doctor.workbook_ok": "表格：{where} 可以打开和保存。",
    "notify.doctor.not_checked": "工作表和表头：表格无法读取，未检查。",
    "notify.doctor.fix_above": "请先修复上面“表格”一行。",
    "notify.doctor.layout_fix": "按提示处理，或运行 `sheetsync init` 补上缺少的工作表和列（不会改动已填写的内容）。",
    "notify.doctor.layout_ok": "工作表和表头：{count} 个工作表齐全，同步所需的列都在。",
    "notify.doctor.queue_attention": "队列：有 {count} 条表单提交需要处理，不会自动写入。",
    "notify.doctor.queue_attention_fix": "运行 `sheetsync queue list` 查看原因，处理后运行 `sheetsync queue retry "
                                         "编号`。",
    "notify.doctor.queue_stuck": "队列：{count} 条提交在等待，最早的已等 {minutes} 分钟：没有在运行的写入任务。",
    "notify.doctor.queue_stuck_fix": "启动 `sheetsync serve`（或在 gunicorn 旁运行 `sheetsync worker`）并保持运行。",
    "notify.doctor.queue_ok": "队列：{count} 条提交在等待，没有卡住或需要处理的。",
    "notify.doctor.backend_down": "队列：无法打开状态数据库：{error}",
    "notify.doctor.backend_fix": "检查 database_url（PostgreSQL 须可连接）或 state_dir 是否可写。",
    "notify.doctor.secret_ok": "密钥 {source}：已签名（{count} 个密钥）。",
    "notify.doctor.secret_unsigned": "密钥 {source}：接受未签名的提交（在 allow_unsigned 中）。",
    "notify.doctor.secret_missing": "密钥 {source}：没有密钥，发往 /hooks/{source} 的提交都会被拒绝。",
    "notify.doctor.secret_fix": "运行 `sheetsync init`（会为 {source} 生成密钥并显示一次），或把 {source} 加入 "
                                "allow_unsigned。",
    "notify.doctor.clock_behind": "时钟：本机时间 {now} 早于上次记录的同步时间（{last}）。",
    "notify.doctor.clock_fix": "校正系统时钟（开启 NTP 自动对时，如 `timedatectl set-ntp true`）。",
    "notify.doctor.zone_differs": "时钟：表格的时区是 {sheet}，sheetsync 用的是 {zone}，日期会错位。",
    "notify.doctor.zone_fix": "在 sheetsync.toml 中设置 timezone = \"{sheet}\"（或在表格的“文件 > 设置”里改时区）。",
    "notify.doctor.clock_ok": "时钟：{zone} 时间 {local}（UTC{offset}）。",
    "notify.doctor.channels_off": "通知：尚未设置，新商机和每日待办不会通知任何人。",
    "notify.doctor.channels_off_fix": "在团队表的 IM账号 填每个人的群机器人地址（如 wecombot://KEY），或为邮箱设置 "
                                      "notify_smtp；见 README 的 Notifications。",
    "notify.doctor.manager": "主管",
    "notify.doctor.manager_missing": "主管的通知渠道：未设置 notify_manager，周报无处发送。",
    "notify.doctor.manager_fix": "把 notify_manager 设为主管的 apprise 地址，如 notify_manager = \"dingtalk://SECRET"
                                 "@TOKEN\"。",
    "notify.doctor.channel_bad": "{name} 的通知渠道：{problems}",
    "notify.doctor.channel_fix": "改正上面提到的团队表单元格或设置（README 的 Notifications 有各聊天工具的示例）。",
    "notify.doctor.channel_ok": "{name} 的通知渠道：{where}。",
    "notify.doctor.test_sent": "{name} 的通知渠道：测试消息已发到 {where}。",
    "notify.doctor.test_failed": "{name} 的通知渠道：测试消息发送失败：{error}",
    "notify.doctor.test_fix": "检查地址中机器人的 key/token 和密钥（加签的钉钉/飞书机器人要写成 SECRET@TOKEN），"
                              "以及本机能否访问该聊天工具。",
    # page: sheetsync import
    "page.import.no_customer": "缺少客户名称：请在文件中填写",
    "page.import.no_contact_way": "电话和邮箱都为空：请至少填写一项，负责人才能联系",
    "page.import.no_customer_column": "{file} 中没有表示客户名称的列：请用 --map \"你的列名=客户名称\" 指定。",
    "page.import.read": "{file}：{rows} 行；使用的列：{columns}。",
    "page.import.unmatched": "未导入（没有对应的列）：{headers}。可用 --map \"列名=目标列\" 指定，"
                             "或用 --map \"列名=-\" 忽略且不再提示。",
    "page.import.progress": "正在导入",
    "page.import.summary": "导入 {imported} 条，合并到已有商机 {merged} 条，拒绝 {rejected} 条。",
    "page.import.imported_line": "  第 {line} 行：{customer} -> {id}，负责人 {owner}",
    "page.import.merged_head": "已合并（与已有商机为同一客户；只填写了其空白单元格）：",
    "page.import.merged_line": "  第 {line} 行：{customer} -> {id}（{signal}相同）{filled}",
    "page.import.filled": "，填写了 {columns}",
    "page.import.rejected_head": "已拒绝：",
    "page.import.rejected_line": "  第 {line} 行：{reason}",
    "page.import.flagged_head": "已导入，但与已有商机相似（见状态检查列）：",
    "page.import.flagged_line": "  第 {line} 行：{id}：{note}",
    "page.import.more": "  ……另有 {n} 条",
    "page.import.dry_run": "试运行：未写入任何内容。去掉 --dry-run 再运行即可导入。",
    "page.import.done": "已写入 {store}。",
    "page.import.dedupe_rules": "按电话、邮箱和公司名称查重，与撞单规则相同。",
    "page.import.stopped": "{error}（此前已处理 {total} 行中的 {done} 行；可以放心重新运行同一导入："
                           "已导入的行会被识别为重复并合并。）",
    "discipline.handover_rule": "{name}离职交接",
    "discipline.reclaim_rule": "公海回收（超期未跟进）",
    "discipline.handover_stuck": "没有人能接手{name}的这条商机：{reason}",
    "discipline.last_followup": "最近跟进 {day}：{summary}",
    "discipline.no_followup": "尚无跟进记录",
    "discipline.no_next_step": "未填写",
    "discipline.inherited": "接手{name}的商机（离职交接）；{last}；下一步：{step}",
    "discipline.inherited_reclaim": "从{name}处回收（超期未跟进）；{last}；下一步：{step}",
    "discipline.reclaimed_from_you": "已回收：超期未跟进，商机已转给{name}",
    "discipline.report_moves": "交接 {handed} 条，回收 {reclaimed} 条",
    # plan
    "plan.report": ("{rows} 条商机：新编号 {ids} 个，分配负责人 {owners} 条，更新最近跟进 {last_contacts} 条，"
                    "建议下次跟进 {proposals} 条，待修正 {problems} 条，提醒 {reminders} 条，记录变更 {history} 条"),
    "plan.report_join": "，",
    "plan.report_unchanged": "（自上次同步以来没有变化：未重新计算）",
    "discipline.cli_nothing": "{name} 没有进行中的商机，无需交接。",
    "discipline.cli_dry_run": "试运行，未写入：{name} 的 {count} 条进行中商机将转交。",
    "discipline.cli_done": "已转交 {name} 的 {count} 条进行中商机；新负责人会在提醒表看到。",
    "discipline.cli_move": "  {id}  {customer}：{previous} -> {owner}（{rule}）",
    "discipline.customer_won": "已成交",
    "discipline.page_title": "记录跟进",
    "discipline.page_hello": "{name}，你好：选择商机，写下跟进内容（可用键盘上的语音输入），再定下次跟进日期。",
    "discipline.page_deal": "商机（客户名称或编号）",
    "discipline.page_channel": "方式",
    "discipline.page_channels": "电话|拜访|微信|邮件|会议|其他",
    "discipline.page_summary": "跟进内容",
    "discipline.page_next": "下次跟进",
    "discipline.page_save": "保存",
    "discipline.page_pick": "请从列表中选择你负责的商机（输入客户名称或 OPP- 编号）。",
    "discipline.page_no_summary": "请填写跟进内容。",
    "discipline.page_bad_date": "“{value}”不是日期：请在日期框中选择。",
    "discipline.page_saved": "已保存到 {id}：一分钟内写入表格。",
    "discipline.page_again": "再记一条",
    "discipline.cli_link": "{name} 的跟进链接（有效期至 {until}；只发给本人）：",
    "discipline.cli_no_secret": "followup 来源没有密钥：运行 `sheetsync init`（会自动添加）或设置 [secrets] followup。",
    "discipline.customer_reopened": "已重新打开：商机回到「{stage}」阶段（记录保留）",
    "discipline.deal_reopened": "成交后重新打开：客户表中的记录已保留并标注",
    "discipline.the_manager": "主管",
    "discipline.awaiting": "待审批（{manager}）",
    "discipline.approve": "请审批此商机的「{stage}」阶段（负责人 {owner}）：在审批列填写同意或驳回",
    "discipline.skipped_gate": "未经审批越过「{stage}」阶段：请{manager}在审批列审批",
    # page: the status page at /
    "page.web.title": "商机状态",
    "page.web.updated": "截至 {time}（{zone}）",
    "page.web.refresh": "刷新",
    "page.web.logout": "退出",
    "page.web.login_title": "打开状态页",
    "page.web.login_help": "请输入 sheetsync.toml 中的 API 令牌（api_token）或 SHEETSYNC_API_TOKEN。",
    "page.web.login_field": "API 令牌",
    "page.web.login_button": "打开",
    "page.web.login_wrong": "令牌与 api_token 不一致：请从 sheetsync.toml 重新复制（不要带空格）。",
    "page.web.login_unset": "尚未设置 api_token，状态页已关闭：请运行 `sheetsync init`（会生成令牌），"
                            "或在 sheetsync.toml 或 SHEETSYNC_API_TOKEN 中设置 api_token，然后重启。",
    "page.web.funnel": "销售漏斗",
    "page.web.by_amount": "按金额",
    "page.web.by_count": "按商机数",
    "page.web.stage": "阶段",
    "page.web.deals": "商机数",
    "page.web.amount": "金额",
    "page.web.open_total": "在手商机：{count} 个，{amount}",
    "page.web.won": "赢单",
    "page.web.lost": "输单",
    "page.web.no_deals": "还没有商机：在「商机」表中填一行，或提交一次表单。",
    "page.web.owners": "人员",
    "page.web.owner": "负责人",
    "page.web.open": "在手",
    "page.web.overdue_count": "逾期",
    "page.web.won_month": "本月成交",
    "page.web.target": "月度目标",
    "page.web.no_target": "—",
    "page.web.overdue": "逾期跟进",
    "page.web.overdue_none": "没有逾期的跟进。",
    "page.web.overdue_more": "……另有 {n} 条，见「提醒」表。",
    "page.web.days_late": "逾期 {n} 天",
    "page.web.customer": "客户",
    "page.web.due": "应跟进日期",
    "page.web.queue": "表单接收",
    "page.web.queue_depth": "待写入",
    "page.web.queue_oldest": "最早一条已等待",
    "page.web.queue_retrying": "重试中",
    "page.web.queue_empty": "所有提交都已写入表格。",
    "page.web.attention": "需要处理（{n}）",
    "page.web.attention_help": "请先排除原因，再运行 `sheetsync queue retry 编号`（或 `sheetsync queue drop 编号`）。",
    "page.web.jobs": "同步与写入",
    "page.web.last_sync": "上次同步",
    "page.web.last_flush": "上次写入表单",
    "page.web.never": "尚未运行",
    "page.web.ago": "{when}（{n} {unit}前）",
    "page.web.unit_s": "秒",
    "page.web.unit_min": "分钟",
    "page.web.unit_h": "小时",
    "page.web.unit_d": "天",
    "page.web.last_error": "最近一次错误（{when}）：{error}",
    "page.web.error_fixed": "此后运行正常。",
    "page.web.sheet_problem": "无法读取表格：{problem}",
    "page.web.worker": "后台任务",
    "page.web.unknown_stage": "（未知阶段）",
}

_CATALOGUES = {"en": EN, "zh": ZH}


class MissingMessage(KeyError):
    """A key is asked for that the catalogue does not hold."""


def say(key: str, language: str = "en", /, **fields: object) -> str:
    """Return the message `key` in `language` ("zh" or anything else for English), filled with `fields`."""
    table = _CATALOGUES["zh" if language == "zh" else "en"]
    try:
        template = table[key]
    except KeyError:
        raise MissingMessage(f"No message {key!r} in the {language} catalogue.") from None
    return template.format(**fields) if fields else template
