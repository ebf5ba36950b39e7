// The desk's commands, listed once. `build.rs` includes this file to declare them to
// tauri-build (each gets an `allow-<command>` permission for the capability in
// `tauri.conf.json`), `lib.rs` to register their handlers in `src/ipc.rs`. A test checks the
// capability, `src/ipc.rs` and `ui/src/ipc.ts` against it.
desk_commands![
    desk_state,
    enrol,
    reenrol,
    sync_now,
    search,
    attendee,
    check_in,
    undo_check_in,
    door_numbers,
    party,
    check_in_party,
    undo_party,
    correct_attendee,
    availability,
    sell,
    sales,
    conflicts,
    act_on_conflict,
    set_gate,
    printers,
    set_printer,
    set_auto_print,
    set_badge_template,
    badge_templates,
    badge_preview,
    print_badge,
    retry_print,
    print_jobs,
];
