//! Raising external events toward 1C client forms.

use crate::ffi::Host;

/// The event source of every external event.
pub const EVENT_SOURCE: &str = "Telegram";
/// The event message of connection notices.
pub const ERROR_EVENT: &str = "error";

/// Raises one event. On the server the platform never delivers events, so
/// nothing is raised there and false is returned: callers keep the data for
/// the pull methods instead.
pub fn raise(host: &Host, message: &str, data: &str) -> bool {
    if host.app_type().is_server() {
        return false;
    }
    host.external_event(EVENT_SOURCE, message, data)
}
