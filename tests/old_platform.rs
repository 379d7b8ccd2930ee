//! An old platform that does not report capabilities: the add-in must not
//! call `GetInterface`. Kept in its own test binary because the capabilities
//! the platform reports are process-wide.

mod common;

use common::*;

#[test]
fn without_capabilities_get_interface_is_never_called() {
    let mut bot = bot_with(HostOptions {
        capabilities: 0,
        ..HostOptions::default()
    });
    assert_eq!(bot.get_interface_calls(), 0);
    assert_eq!(bot.get_interface_misuse(), 0);
    // With no platform info the add-in assumes a client and raises events.
    assert_eq!(
        bot.call("DebugEvent", &[Value::str("message")]).unwrap(),
        Value::Bool(true)
    );
    assert_eq!(bot.drain_events().len(), 1);
    finish(bot);
}
