//! The Telegram Bot API client. It knows nothing of 1C.

mod client;
mod error;
mod token;

pub use client::{
    check_proxy, normalize_api_url, without_userinfo, Client, ClientConfig, DEFAULT_API_URL,
};
pub use error::{ConfigError, Error, ResponseParameters};
pub use token::{Token, TokenError};
