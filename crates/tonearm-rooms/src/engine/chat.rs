//! Chat text and names from guests: cleaned and bounded before anyone sees them, and a
//! per-connection rate limit that answers with an error, never a disconnect.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Longest chat message, in characters (after cleaning).
pub const MAX_MESSAGE_CHARS: usize = 500;
/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 32;
/// Messages kept per room and sent to joiners.
pub const HISTORY: usize = 100;

/// Why a message was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    #[error("message is empty")]
    Empty,
    #[error("message is longer than {MAX_MESSAGE_CHARS} characters")]
    TooLong,
    #[error("too many messages: wait a few seconds")]
    RateLimited,
}

impl ChatError {
    pub fn code(&self) -> &'static str {
        match self {
            ChatError::Empty => "chat_empty",
            ChatError::TooLong => "chat_too_long",
            ChatError::RateLimited => "chat_rate_limited",
        }
    }
}

/// Removes control characters (keeping none: a chat line is one line) and surrounding space.
/// HTML is kept as typed: clients render text, never markup.
fn strip(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() && !is_invisible_format(*c))
        .collect::<String>()
        .trim()
        .to_string()
}

/// Bidi overrides and zero-width characters that can disguise text.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// A chat message ready to store and relay.
pub fn clean_message(text: &str) -> Result<String, ChatError> {
    let t = strip(text);
    if t.is_empty() {
        return Err(ChatError::Empty);
    }
    if t.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ChatError::TooLong);
    }
    Ok(t)
}

/// A display name: cleaned, 1–32 characters.
pub fn clean_name(name: &str) -> Option<String> {
    let n = strip(name);
    let len = n.chars().count();
    (1..=MAX_NAME_CHARS).contains(&len).then_some(n)
}

/// At most `n` messages in any 5-second window (a sliding window of send times).
#[derive(Debug)]
pub struct ChatLimiter {
    n: usize,
    sent: VecDeque<Instant>,
}

impl ChatLimiter {
    pub const WINDOW: Duration = Duration::from_secs(5);

    pub fn new(n: usize) -> ChatLimiter {
        ChatLimiter {
            n,
            sent: VecDeque::with_capacity(n),
        }
    }

    /// Counts a message sent at `now`, or refuses it (refusals do not count).
    pub fn allow(&mut self, now: Instant) -> Result<(), ChatError> {
        while self
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Self::WINDOW)
        {
            self.sent.pop_front();
        }
        if self.sent.len() >= self.n {
            return Err(ChatError::RateLimited);
        }
        self.sent.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_trimmed_stripped_and_bounded() {
        assert_eq!(
            clean_message("  hi <b>there</b>\u{7}\r\n ").unwrap(),
            "hi <b>there</b>"
        );
        assert_eq!(clean_message("a\u{202E}b\u{200B}c").unwrap(), "abc");
        assert_eq!(clean_message(" \u{1}\t "), Err(ChatError::Empty));
        assert!(
            clean_message(&"é".repeat(500)).is_ok(),
            "characters, not bytes"
        );
        assert_eq!(clean_message(&"x".repeat(501)), Err(ChatError::TooLong));
    }

    #[test]
    fn names_are_cleaned_and_bounded() {
        assert_eq!(clean_name(" Alice\u{0} ").as_deref(), Some("Alice"));
        assert_eq!(clean_name("\u{7}"), None);
        assert_eq!(clean_name(&"n".repeat(33)), None);
    }

    #[test]
    fn the_limiter_allows_n_per_window_and_recovers() {
        let mut l = ChatLimiter::new(5);
        let t0 = Instant::now();
        for i in 0..5 {
            assert!(l.allow(t0 + Duration::from_millis(i * 10)).is_ok());
        }
        assert_eq!(
            l.allow(t0 + Duration::from_millis(100)),
            Err(ChatError::RateLimited)
        );
        assert!(l.allow(t0 + Duration::from_millis(5001)).is_ok());
    }
}
