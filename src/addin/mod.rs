//! The 1C-facing `Bot` object: its member table, parameter conversion and
//! errors turned into exception texts. `Bot` only dispatches: each part
//! (connection, journal, sending, receiving, binding, delivery) keeps its own state and takes a
//! [`context::Context`] for a call.

mod binding;
mod bot;
mod connection;
mod context;
mod delivery;
mod errors;
mod events;
mod journal;
mod members;
mod params;
mod receiving;
mod sending;

use crate::ffi::AddinObject;

pub use bot::{Bot, CLASS_NAME};

/// The names `GetClassNames` returns, NUL-terminated UTF-16 (`Bot`).
pub static CLASS_NAMES: &[u16] = &addin1c::utf16_null!("Bot");

/// Creates the object for a class name, as `GetClassObject` asks.
pub fn create(class: &str) -> Option<Box<dyn AddinObject>> {
    (class.eq_ignore_ascii_case(CLASS_NAME)).then(|| Box::new(Bot::new()) as Box<dyn AddinObject>)
}
