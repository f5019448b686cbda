//! Nibble paths of any length (state tries use 64, plain tries in ethereum/tests use any).

/// A path of nibbles (half-bytes), one per `u8`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct Nibbles(Vec<u8>);

impl Nibbles {
    pub(crate) fn unpack(bytes: &[u8]) -> Self {
        let mut out = Vec::with_capacity(bytes.len() * 2);
        for b in bytes {
            out.push(b >> 4);
            out.push(b & 0x0f);
        }
        Self(out)
    }

    pub(crate) fn from_slice(nibbles: &[u8]) -> Self {
        Self(nibbles.to_vec())
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `[nibble] ++ self`.
    pub(crate) fn prepend(&self, nibble: u8) -> Self {
        let mut out = Vec::with_capacity(self.0.len() + 1);
        out.push(nibble);
        out.extend_from_slice(&self.0);
        Self(out)
    }

    /// `self ++ other`.
    pub(crate) fn join(&self, other: &[u8]) -> Self {
        let mut out = Vec::with_capacity(self.0.len() + other.len());
        out.extend_from_slice(&self.0);
        out.extend_from_slice(other);
        Self(out)
    }

    /// Hex-prefix encoding (Yellow Paper appendix C).
    pub(crate) fn encode_hex_prefix(&self, is_leaf: bool) -> Vec<u8> {
        let odd = self.0.len() % 2 == 1;
        let flag = (u8::from(is_leaf) << 1) | u8::from(odd);
        let mut out = Vec::with_capacity(self.0.len() / 2 + 1);
        let rest = if odd {
            out.push((flag << 4) | self.0[0]);
            &self.0[1..]
        } else {
            out.push(flag << 4);
            &self.0[..]
        };
        for pair in rest.chunks_exact(2) {
            out.push((pair[0] << 4) | pair[1]);
        }
        out
    }

    /// Decodes a hex-prefix path into (nibbles, is_leaf); `None` when the flag is invalid.
    pub(crate) fn decode_hex_prefix(bytes: &[u8]) -> Option<(Self, bool)> {
        let first = *bytes.first()?;
        let flag = first >> 4;
        if flag > 3 {
            return None;
        }
        let is_leaf = flag & 2 != 0;
        let odd = flag & 1 != 0;
        let mut out = Vec::with_capacity(bytes.len() * 2);
        if odd {
            out.push(first & 0x0f);
        } else if first & 0x0f != 0 {
            return None;
        }
        for b in &bytes[1..] {
            out.push(b >> 4);
            out.push(b & 0x0f);
        }
        Some((Self(out), is_leaf))
    }
}

/// Length of the common prefix of two nibble slices.
pub(crate) fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_prefix_round_trip() {
        for path in [vec![], vec![1], vec![1, 2], vec![0, 0xf, 1], vec![0xa; 64]] {
            for leaf in [false, true] {
                let n = Nibbles(path.clone());
                let enc = n.encode_hex_prefix(leaf);
                assert_eq!(Nibbles::decode_hex_prefix(&enc), Some((n, leaf)));
            }
        }
        // Yellow Paper examples.
        assert_eq!(Nibbles(vec![1, 2, 3, 4, 5]).encode_hex_prefix(false), vec![0x11, 0x23, 0x45]);
        assert_eq!(Nibbles(vec![0, 0xf, 1, 0xc, 0xb, 8]).encode_hex_prefix(true), vec![0x20, 0x0f, 0x1c, 0xb8]);
        assert_eq!(Nibbles::decode_hex_prefix(&[0x01]), None);
        assert_eq!(Nibbles::decode_hex_prefix(&[0x40]), None);
    }
}
