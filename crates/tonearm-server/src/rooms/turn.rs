//! Arrival order for a socket's events. socketioxide parses a socket's events in the order
//! they arrive but runs each handler as its own task, so two frames sent back to back could be
//! relayed swapped, or the first frame could overtake `broadcast:start`. Handlers that must
//! keep order take a [`Turn`] (numbered while parsing, so in arrival order) and wait for it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A connection's queue of ordered events.
#[derive(Debug)]
pub struct Line {
    /// Ordered events taken so far.
    arrived: AtomicU64,
    /// Ordered events finished so far.
    served: tokio::sync::watch::Sender<u64>,
}

impl Default for Line {
    fn default() -> Self {
        Line {
            arrived: AtomicU64::new(0),
            served: tokio::sync::watch::Sender::new(0),
        }
    }
}

/// A handler's place in its connection's line.
pub struct Turn(Option<(Arc<Line>, u64)>);

impl<A: socketioxide::adapter::Adapter> socketioxide::handler::FromMessageParts<A> for Turn {
    type Error = std::convert::Infallible;
    fn from_message_parts(
        s: &Arc<socketioxide::socket::Socket<A>>,
        _: &mut socketioxide_core::Value,
        _: &Option<i64>,
    ) -> Result<Self, Self::Error> {
        Ok(Turn(s.extensions.get::<Arc<Line>>().map(|line| {
            let ticket = line.arrived.fetch_add(1, Ordering::SeqCst);
            (line, ticket)
        })))
    }
}

/// Lets the next event in line run when dropped.
pub struct TurnGuard(Option<Arc<Line>>);

impl Drop for TurnGuard {
    fn drop(&mut self) {
        if let Some(line) = &self.0 {
            line.served.send_modify(|n| *n += 1);
        }
    }
}

impl Turn {
    /// Waits until every earlier ordered event of the connection has finished. Every turn
    /// taken reaches a handler (our extractors after it cannot fail), but should one not, the
    /// line would not stall: after a second the wait gives up and the event runs.
    pub async fn wait(self) -> TurnGuard {
        let Some((line, ticket)) = self.0 else {
            return TurnGuard(None);
        };
        let mut rx = line.served.subscribe();
        let waited = tokio::time::timeout(Duration::from_secs(1), rx.wait_for(|n| *n >= ticket));
        if waited.await.is_err() {
            tracing::warn!(
                ticket,
                "event ordering: gave up waiting for an earlier event"
            );
        }
        TurnGuard(Some(line))
    }
}
