//! Newline-delimited JSON-RPC messages, read with a bound. `serve` reads them from its client,
//! `proxy` from its client and from the (untrusted) server it confines; tokio's `lines()` would
//! buffer a line of any length, so one endless line could exhaust the supervisor's memory. A
//! line over [`MAX_MESSAGE`] is skipped to its end and reported, never held.

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// The longest message accepted, in bytes. Large enough for tool results that carry files or
/// images (base64), small enough that a few concurrent sessions cannot exhaust memory.
pub const MAX_MESSAGE: usize = 16 << 20;

/// One line read.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A complete line, without its newline.
    Text(String),
    /// A line longer than the bound, skipped: its length in bytes.
    TooLong(usize),
    /// A complete line that is not valid UTF-8 (so not JSON): its bytes, for the caller to
    /// refuse. Reading goes on with the next line.
    NotUtf8(Vec<u8>),
}

impl Line {
    /// The JSON-RPC error a client gets for a message over the bound.
    pub fn too_long_reply(len: usize) -> serde_json::Value {
        serde_json::json!({
            "jsonrpc": "2.0", "id": null,
            "error": { "code": -32600, "message": too_long_message(len) },
        })
    }
}

/// One line describing a message over the bound.
pub fn too_long_message(len: usize) -> String {
    format!("message of {len} bytes refused: the limit is {} MiB", MAX_MESSAGE >> 20)
}

/// A bounded line reader. Cancel-safe, like tokio's `next_line`: a partial line is kept in the
/// reader, so `next` can be raced in `select!`.
#[derive(Debug)]
pub struct Lines<R> {
    reader: BufReader<R>,
    max: usize,
    partial: Vec<u8>,
    /// Bytes of the current line so far, kept or not.
    seen: usize,
}

impl<R: AsyncRead + Unpin> Lines<R> {
    pub fn new(inner: R) -> Self {
        Self::with_limit(inner, MAX_MESSAGE)
    }

    pub fn with_limit(inner: R, max: usize) -> Self {
        Lines { reader: BufReader::new(inner), max, partial: Vec::new(), seen: 0 }
    }

    /// The next line; `None` at the end of input (a last line without a newline counts).
    /// Invalid UTF-8 is not an error (as it is with tokio's `next_line`, which would end the
    /// caller's loop): it is [`Line::NotUtf8`], and the following lines are read as usual.
    pub async fn next(&mut self) -> std::io::Result<Option<Line>> {
        loop {
            let available = self.reader.fill_buf().await?;
            if available.is_empty() {
                if self.seen == 0 {
                    return Ok(None);
                }
                return Ok(Some(self.finish()));
            }
            let (chunk, ends_line) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (&available[..i], true),
                None => (available, false),
            };
            let used = chunk.len() + usize::from(ends_line);
            self.seen += chunk.len();
            if self.seen <= self.max {
                self.partial.extend_from_slice(chunk);
            } else {
                // Over the bound: drop what was kept, and skip the rest of the line.
                self.partial = Vec::new();
            }
            self.reader.consume(used);
            if ends_line {
                return Ok(Some(self.finish()));
            }
        }
    }

    fn finish(&mut self) -> Line {
        let (len, bytes) = (std::mem::take(&mut self.seen), std::mem::take(&mut self.partial));
        if len > self.max {
            return Line::TooLong(len);
        }
        match String::from_utf8(bytes) {
            Ok(mut text) => {
                if text.ends_with('\r') {
                    text.pop();
                }
                Line::Text(text)
            }
            Err(e) => Line::NotUtf8(e.into_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn all(input: &[u8], max: usize) -> Vec<Line> {
        let mut lines = Lines::with_limit(input, max);
        let mut out = Vec::new();
        while let Some(l) = lines.next().await.unwrap() {
            out.push(l);
        }
        out
    }

    fn text(s: &str) -> Line {
        Line::Text(s.into())
    }

    #[tokio::test]
    async fn reads_lines_and_skips_those_over_the_bound() {
        assert_eq!(all(b"a\nbb\r\n\nccc", 8).await, [text("a"), text("bb"), text(""), text("ccc")]);
        let long = [b"ok\n".as_slice(), &[b'x'; 20], b"\nafter\n"].concat();
        assert_eq!(all(&long, 8).await, [text("ok"), Line::TooLong(20), text("after")]);
        assert_eq!(all(&[b'y'; 9], 8).await, [Line::TooLong(9)], "an unterminated last line too");
        assert_eq!(all(&[b'z'; 8], 8).await, [text("zzzzzzzz")], "exactly the bound is fine");
    }

    #[tokio::test]
    async fn a_line_split_across_reads_is_whole() {
        let (mut tx, rx) = tokio::io::duplex(4);
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            tx.write_all(b"{\"a\":1234567}\nnext\n").await.unwrap();
        });
        let mut lines = Lines::with_limit(rx, 64);
        assert_eq!(lines.next().await.unwrap(), Some(text("{\"a\":1234567}")));
        assert_eq!(lines.next().await.unwrap(), Some(text("next")));
        writer.await.unwrap();
        assert_eq!(lines.next().await.unwrap(), None);
    }

    #[tokio::test]
    async fn invalid_utf8_is_reported_and_reading_goes_on() {
        let got = all(b"\xff\xfe\n{}\n\xc3\n", 8).await;
        assert_eq!(got, [Line::NotUtf8(vec![0xff, 0xfe]), text("{}"), Line::NotUtf8(vec![0xc3])]);
    }
}
