//! vsn 2.0.0's binary user-broadcast frames (Supabase's `RealtimeWeb.Socket.V2Serializer`).
//!
//! realtime-js 2.x sends every `channel.send({type: 'broadcast', event, payload})` as a binary
//! *user broadcast push* (kind 3) instead of a JSON array:
//!
//! ```text
//! u8 kind=3 | u8 join_ref_len | u8 ref_len | u8 topic_len | u8 event_len | u8 meta_len
//! | u8 encoding (0 binary, 1 JSON) | join_ref | ref | topic | event | meta (JSON) | payload
//! ```
//!
//! The server answers other V2 members with a *user broadcast* (kind 4), which has no refs:
//! `u8 kind=4 | u8 topic_len | u8 event_len | u8 meta_len | u8 encoding | topic | event | meta
//! | payload`. Every length prefix is a byte count, so each field is at most 255 bytes.

use serde_json::Value;

/// Client→server kind byte.
pub const USER_BROADCAST_PUSH: u8 = 3;
/// Server→client kind byte.
pub const USER_BROADCAST: u8 = 4;

/// How the user payload after the header is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadEncoding {
    /// Raw bytes (the client sent an `ArrayBuffer`).
    Binary,
    /// UTF-8 JSON.
    Json,
}

impl PayloadEncoding {
    fn byte(self) -> u8 {
        match self {
            PayloadEncoding::Binary => 0,
            PayloadEncoding::Json => 1,
        }
    }
}

/// One decoded kind-3 frame.
#[derive(Debug, Clone, PartialEq)]
pub struct UserBroadcastPush {
    pub join_ref: Option<String>,
    pub msg_ref: Option<String>,
    pub topic: String,
    pub event: String,
    /// Metadata keys the client chose to send (realtime-js: only `persist`); `None` if empty.
    pub metadata: Option<Value>,
    pub encoding: PayloadEncoding,
    pub payload: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BinaryFrameError {
    #[error("empty binary frame")]
    Empty,
    #[error("binary frame kind {0} is not a user broadcast push (3)")]
    Kind(u8),
    #[error("binary frame is shorter than its header says")]
    Truncated,
    #[error("binary frame field {0} is not UTF-8")]
    NotUtf8(&'static str),
    #[error("binary frame metadata is not JSON")]
    Metadata,
    #[error("unknown payload encoding {0}")]
    Encoding(u8),
    #[error("{0} is over 255 bytes")]
    FieldTooLong(&'static str),
}

/// A cursor over the frame that never reads past its end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Result<u8, BinaryFrameError> {
        let b = *self.bytes.get(self.at).ok_or(BinaryFrameError::Truncated)?;
        self.at += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], BinaryFrameError> {
        let end = self.at.checked_add(n).ok_or(BinaryFrameError::Truncated)?;
        let s = self
            .bytes
            .get(self.at..end)
            .ok_or(BinaryFrameError::Truncated)?;
        self.at = end;
        Ok(s)
    }

    fn text(&mut self, n: usize, field: &'static str) -> Result<String, BinaryFrameError> {
        let s = self.take(n)?;
        std::str::from_utf8(s)
            .map(str::to_owned)
            .map_err(|_| BinaryFrameError::NotUtf8(field))
    }
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

impl UserBroadcastPush {
    /// Decodes a kind-3 frame. Never panics: every byte came from the network.
    pub fn decode(bytes: &[u8]) -> Result<UserBroadcastPush, BinaryFrameError> {
        let mut r = Reader { bytes, at: 0 };
        let kind = r.u8().map_err(|_| BinaryFrameError::Empty)?;
        if kind != USER_BROADCAST_PUSH {
            return Err(BinaryFrameError::Kind(kind));
        }
        let join_ref_len = r.u8()? as usize;
        let ref_len = r.u8()? as usize;
        let topic_len = r.u8()? as usize;
        let event_len = r.u8()? as usize;
        let meta_len = r.u8()? as usize;
        let encoding = match r.u8()? {
            0 => PayloadEncoding::Binary,
            1 => PayloadEncoding::Json,
            other => return Err(BinaryFrameError::Encoding(other)),
        };
        let join_ref = non_empty(r.text(join_ref_len, "join_ref")?);
        let msg_ref = non_empty(r.text(ref_len, "ref")?);
        let topic = r.text(topic_len, "topic")?;
        let event = r.text(event_len, "event")?;
        let metadata = match meta_len {
            0 => None,
            n => Some(serde_json::from_slice(r.take(n)?).map_err(|_| BinaryFrameError::Metadata)?),
        };
        let payload = bytes[r.at..].to_vec();
        Ok(UserBroadcastPush {
            join_ref,
            msg_ref,
            topic,
            event,
            metadata,
            encoding,
            payload,
        })
    }

    /// Encodes the frame as realtime-js does (for tests and native clients).
    pub fn encode(&self) -> Result<Vec<u8>, BinaryFrameError> {
        let meta = self
            .metadata
            .as_ref()
            .map(|m| m.to_string())
            .unwrap_or_default();
        let fields: [(&'static str, &[u8]); 5] = [
            (
                "join_ref",
                self.join_ref.as_deref().unwrap_or("").as_bytes(),
            ),
            ("ref", self.msg_ref.as_deref().unwrap_or("").as_bytes()),
            ("topic", self.topic.as_bytes()),
            ("event", self.event.as_bytes()),
            ("metadata", meta.as_bytes()),
        ];
        let mut out = vec![USER_BROADCAST_PUSH];
        for &(name, f) in &fields {
            out.push(u8::try_from(f.len()).map_err(|_| BinaryFrameError::FieldTooLong(name))?);
        }
        out.push(self.encoding.byte());
        for (_, f) in &fields {
            out.extend_from_slice(f);
        }
        out.extend_from_slice(&self.payload);
        Ok(out)
    }

    /// The user payload as JSON, when it was sent as JSON.
    pub fn json_payload(&self) -> Option<Value> {
        match self.encoding {
            PayloadEncoding::Json => serde_json::from_slice(&self.payload).ok(),
            PayloadEncoding::Binary => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> UserBroadcastPush {
        UserBroadcastPush {
            join_ref: Some("1".into()),
            msg_ref: Some("12".into()),
            topic: "realtime:room-é".into(),
            event: "typing".into(),
            metadata: None,
            encoding: PayloadEncoding::Json,
            payload: br#"{"who":"Anna"}"#.to_vec(),
        }
    }

    #[test]
    fn round_trips_and_reads_json() {
        let f = sample();
        let bytes = f.encode().unwrap();
        assert_eq!(bytes[0], USER_BROADCAST_PUSH);
        let back = UserBroadcastPush::decode(&bytes).unwrap();
        assert_eq!(back, f);
        assert_eq!(back.json_payload(), Some(json!({"who": "Anna"})));
    }

    #[test]
    fn empty_refs_are_none_and_metadata_is_json() {
        let mut f = sample();
        f.join_ref = None;
        f.msg_ref = None;
        f.metadata = Some(json!({"persist": true}));
        let back = UserBroadcastPush::decode(&f.encode().unwrap()).unwrap();
        assert_eq!(back.join_ref, None);
        assert_eq!(back.metadata, Some(json!({"persist": true})));
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = sample().encode().unwrap();
        let header = 7 + 1 + 2 + "realtime:room-é".len() + 6;
        for n in 0..header {
            assert!(UserBroadcastPush::decode(&bytes[..n]).is_err(), "{n}");
        }
        assert_eq!(
            UserBroadcastPush::decode(&[4, 0, 0, 0, 0]),
            Err(BinaryFrameError::Kind(4))
        );
        assert_eq!(
            UserBroadcastPush::decode(&[3, 0, 0, 0, 0, 0, 9]),
            Err(BinaryFrameError::Encoding(9))
        );
    }
}
