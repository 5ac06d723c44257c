//! Lingering close: the unread rest of a request body is read and thrown away after the
//! answer, as nginx's `lingering_close` does.
//!
//! A handler may answer before it reads the whole body: 413 from the `Content-Length`, 401
//! before an upload, a refused multipart part. If the body were dropped then, the server
//! would close the connection with unread bytes in its receive buffer, and the kernel sends
//! a reset instead of a FIN: the client, still sending, often sees "connection reset" and
//! never reads the 413 (a browser shows its own error page instead of ours). So the body is
//! handed back when the handler lets it go unread, and a task drains it in the background
//! while the answer is written, up to [`DRAIN_LIMIT`] bytes and [`DRAIN_TIME`]; past those
//! it is dropped (a client that sends gigabytes after its refusal gets the reset).

use axum::body::{Body, Bytes};
use http_body::{Body as HttpBody, Frame, SizeHint};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// Most bytes read from an abandoned body.
pub const DRAIN_LIMIT: u64 = 64 << 20;
/// Longest time spent reading an abandoned body.
pub const DRAIN_TIME: Duration = Duration::from_secs(10);

/// Where an abandoned body waits for [`drain`].
pub type Slot = Arc<Mutex<Option<Body>>>;

/// A request body that goes back to its slot when dropped before its end.
struct Guarded {
    inner: Option<Body>,
    slot: Slot,
    ended: bool,
}

impl HttpBody for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        // `Guarded` is `Unpin` (a `Body` is a boxed stream).
        let this = self.get_mut();
        let Some(body) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            this.ended = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), HttpBody::size_hint)
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        if let Some(body) = self.inner.take() {
            if !body.is_end_stream() {
                *self
                    .slot
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(body);
            }
        }
    }
}

/// Wrap a request body so that it comes back to the returned slot if left unread; `None`
/// for a request without a body (every routing GET), which costs nothing.
pub fn guard(body: &mut Body) -> Option<Slot> {
    if body.is_end_stream() {
        return None;
    }
    let slot = Slot::default();
    let inner = std::mem::take(body);
    *body = Body::new(Guarded {
        inner: Some(inner),
        slot: slot.clone(),
        ended: false,
    });
    Some(slot)
}

/// Read and drop what is left of an abandoned body, in the background, within bounds.
pub fn drain(slot: &Slot) {
    let Some(body) = slot
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
    else {
        return;
    };
    tokio::spawn(async move {
        let read = async move {
            let mut body = body;
            let mut seen = 0u64;
            while let Some(Ok(frame)) =
                std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
            {
                if let Some(data) = frame.data_ref() {
                    seen += data.len() as u64;
                    if seen > DRAIN_LIMIT {
                        break;
                    }
                }
            }
        };
        // Past the time limit the body is dropped, and the connection closes.
        let _ = tokio::time::timeout(DRAIN_TIME, read).await;
    });
}
