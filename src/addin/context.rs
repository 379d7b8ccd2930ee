//! What a part of the object gets for one call: the connection (and through
//! it the client), the language of texts and the host.

use crate::ffi::Host;
use crate::telegram::Client;

use super::connection::Connection;
use super::errors::{AddinError, Lang};

/// The context of one call, lent to the part that handles it.
pub struct Context<'a> {
    /// The connection settings and client.
    pub connection: &'a mut Connection,
    /// The language of error texts.
    pub lang: Lang,
    /// The platform, when the object is attached to one.
    pub host: Option<&'a Host>,
    /// A text for `LastError` from a call that succeeded (e.g. "connection
    /// lost, retrying"); the object redacts it.
    pub warning: Option<String>,
}

impl Context<'_> {
    /// The client, built on first use.
    pub fn client(&mut self) -> Result<&Client, AddinError> {
        self.connection.client()
    }
}
