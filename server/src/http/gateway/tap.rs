//! A gateway stream watched as it passes to the client (see the parent module): its usage,
//! time to first token and end are noted event by event, with no buffering beyond the event
//! being read, and the usage chunk the gateway asked for on the client's behalf is taken out.

use std::time::Instant;

use axum::body::Bytes;
use engine::gateway::{Proxied, Upstream, anthropic_delta, anthropic_usage, openai_usage};
use serde_json::Value;

use super::{Api, Attempt};

/// Watches a stream's events as they pass: the usage, the time to the first event, whether
/// `[DONE]` came; takes out the usage chunk the gateway asked for on the client's behalf.
pub(super) struct Tap {
    api: Api,
    attempt: Attempt,
    up: Upstream,
    started: Instant,
    call: Proxied,
    inject: bool,
    /// Bytes of an event not yet complete.
    pending: Vec<u8>,
    done: bool,
    /// An `error` event came (Anthropic): the answer is not complete whatever follows.
    failed: bool,
    recorded: bool,
}

impl Tap {
    pub(super) fn new(
        api: Api,
        attempt: Attempt,
        up: Upstream,
        started: Instant,
        call: Proxied,
        inject: bool,
    ) -> Tap {
        Tap {
            api,
            attempt,
            up,
            started,
            call,
            inject,
            pending: Vec::new(),
            done: false,
            failed: false,
            recorded: false,
        }
    }

    /// Whether the stream's terminal event came (`[DONE]`, Anthropic's `message_stop`).
    pub(super) fn done(&self) -> bool {
        self.done
    }

    /// Whether an `error` event came (Anthropic).
    pub(super) fn failed(&self) -> bool {
        self.failed
    }

    /// The bytes to pass on for `chunk`: whole events only, in order.
    pub(super) fn feed(&mut self, chunk: &[u8]) -> Bytes {
        self.pending.extend_from_slice(chunk);
        let mut out = Vec::with_capacity(self.pending.len());
        while let Some(end) = find_event_end(&self.pending) {
            let event: Vec<u8> = self.pending.drain(..end).collect();
            if self.keep(&event) {
                out.extend_from_slice(&event);
            }
        }
        if !out.is_empty() && self.call.ttft_ms.is_none() {
            self.call.ttft_ms = i64::try_from(self.started.elapsed().as_millis()).ok();
        }
        Bytes::from(out)
    }

    /// Whether an event goes to the client; notes its usage and `[DONE]`.
    fn keep(&mut self, event: &[u8]) -> bool {
        let Ok(text) = std::str::from_utf8(event) else {
            return true;
        };
        for line in text.lines() {
            let Some(data) = line.strip_prefix("data:").map(str::trim) else {
                continue;
            };
            if data == "[DONE]" {
                self.done = true;
                continue;
            }
            let Ok(v) = serde_json::from_str::<Value>(data) else {
                continue;
            };
            if self.api == Api::Anthropic {
                self.anthropic(&v);
                continue;
            }
            if let Some(u) = openai_usage(&v["usage"]) {
                self.call.usage = Some(u);
                let empty = v["choices"].as_array().is_none_or(Vec::is_empty);
                if self.inject && empty {
                    return false;
                }
            }
        }
        true
    }

    /// An Anthropic event: the input side of the usage from `message_start`, the final output
    /// count from `message_delta` (never `message_start`'s initial one), the end at
    /// `message_stop`, a failure at `error`.
    fn anthropic(&mut self, v: &Value) {
        match v["type"].as_str() {
            Some("message_start") => self.call.usage = anthropic_usage(&v["message"]["usage"]),
            Some("message_delta") => {
                let usage = self.call.usage.get_or_insert_with(Default::default);
                anthropic_delta(usage, &v["usage"]);
            }
            Some("message_stop") => self.done = true,
            Some("error") => self.failed = true,
            _ => {}
        }
    }

    pub(super) fn finish(&mut self, class: Option<&str>) {
        if self.recorded {
            return;
        }
        self.recorded = true;
        let mut call = self.call.clone();
        call.error_class = class.map(str::to_owned);
        self.attempt.record(&self.up, self.started, call);
    }
}

impl Drop for Tap {
    /// A client that hangs up mid-stream still leaves a record (a failure unless `[DONE]` came).
    fn drop(&mut self) {
        let class = (!self.done).then_some("client_closed");
        self.finish(class);
    }
}

/// The end (exclusive) of the first complete SSE event in `buf`, its blank line included.
fn find_event_end(buf: &[u8]) -> Option<usize> {
    buf.windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| i + 2)
        .or_else(|| buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4))
}
