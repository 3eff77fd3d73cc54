//! Length-prefixed framing: every Kafka request and response is a 4-byte
//! big-endian size followed by that many bytes.

use bytes::{Buf, Bytes, BytesMut};

/// Bytes taken by the length prefix.
pub const LENGTH_PREFIX: usize = 4;

/// A frame that cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The declared length is negative.
    #[error("frame length {0} is negative")]
    NegativeLength(i32),
    /// The declared length exceeds the configured maximum.
    #[error("frame of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// Declared frame length.
        len: usize,
        /// Configured maximum.
        max: usize,
    },
}

/// Takes one complete frame (without its length prefix) off the front of
/// `buf`, if `buf` holds one.
///
/// Returns `Ok(None)` when more bytes are needed; in that case `buf` is left
/// untouched except that capacity for the whole frame may be reserved, so the
/// caller can keep reading into it. A length above `max_frame_bytes` is
/// rejected as soon as the prefix has arrived, before the body is buffered.
pub fn decode_frame(
    buf: &mut BytesMut,
    max_frame_bytes: usize,
) -> Result<Option<Bytes>, FrameError> {
    if buf.len() < LENGTH_PREFIX {
        return Ok(None);
    }
    let declared = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let len = usize::try_from(declared).map_err(|_| FrameError::NegativeLength(declared))?;
    if len > max_frame_bytes {
        return Err(FrameError::TooLarge {
            len,
            max: max_frame_bytes,
        });
    }
    if buf.len() < LENGTH_PREFIX + len {
        buf.reserve(LENGTH_PREFIX + len - buf.len());
        return Ok(None);
    }
    buf.advance(LENGTH_PREFIX);
    Ok(Some(buf.split_to(len).freeze()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(body: &[u8]) -> BytesMut {
        let mut b = BytesMut::new();
        b.extend_from_slice(&(body.len() as i32).to_be_bytes());
        b.extend_from_slice(body);
        b
    }

    #[test]
    fn waits_for_the_prefix_and_the_body() {
        let full = framed(b"hello");
        for cut in 0..full.len() {
            let mut partial = BytesMut::from(&full[..cut]);
            assert_eq!(decode_frame(&mut partial, 1024), Ok(None), "cut at {cut}");
            assert_eq!(partial.len(), cut);
        }
    }

    #[test]
    fn splits_pipelined_frames_in_order() {
        let mut buf = framed(b"one");
        buf.extend_from_slice(&framed(b"two"));
        buf.extend_from_slice(&[0, 0]);
        assert_eq!(decode_frame(&mut buf, 1024).unwrap().unwrap(), &b"one"[..]);
        assert_eq!(decode_frame(&mut buf, 1024).unwrap().unwrap(), &b"two"[..]);
        assert_eq!(decode_frame(&mut buf, 1024), Ok(None));
        assert_eq!(buf.len(), 2);
    }

    #[test]
    fn rejects_oversized_and_negative_lengths_before_the_body_arrives() {
        let mut buf = BytesMut::from(&2000i32.to_be_bytes()[..]);
        assert_eq!(
            decode_frame(&mut buf, 1024),
            Err(FrameError::TooLarge {
                len: 2000,
                max: 1024
            })
        );
        let mut buf = BytesMut::from(&(-5i32).to_be_bytes()[..]);
        assert_eq!(
            decode_frame(&mut buf, 1024),
            Err(FrameError::NegativeLength(-5))
        );
    }

    #[test]
    fn empty_frames_are_frames() {
        let mut buf = framed(b"");
        assert_eq!(decode_frame(&mut buf, 1024).unwrap().unwrap().len(), 0);
    }
}
