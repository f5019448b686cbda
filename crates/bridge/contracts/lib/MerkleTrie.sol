// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title RLPReader
/// @notice Strict, memory-based RLP decoding over raw memory ranges.
/// @dev Every function takes a half-open memory range `[ptr, end)` that the item must lie in and
///      never uses a byte outside it (an `mload` may touch the words around the range, but only
///      in-range bytes are ever used). Non-canonical encodings are rejected: a single byte below
///      0x80 wrapped in a string header, long-form lengths below 56 or with leading zero bytes.
///      Any violation reverts with {RLPMalformed}.
library RLPReader {
    /// The input is not well-formed canonical RLP (or not the shape the caller asked for).
    error RLPMalformed(string reason);

    /// The memory address of the first byte of `b`.
    function memPtr(bytes memory b) internal pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := add(b, 0x20)
        }
    }

    /// The byte at `ptr` (the caller guarantees `ptr` is in range).
    function byteAt(uint256 ptr) internal pure returns (uint256 b) {
        assembly ("memory-safe") {
            b := byte(0, mload(ptr))
        }
    }

    /// Decodes the header of the item starting at `ptr`; the whole item must lie in `[ptr, end)`.
    /// @return isList whether the item is a list
    /// @return payload the address of the payload (for a single byte below 0x80: the byte itself)
    /// @return payloadLen the payload length; `payload + payloadLen <= end` holds
    function header(uint256 ptr, uint256 end)
        internal
        pure
        returns (bool isList, uint256 payload, uint256 payloadLen)
    {
        uint256 err;
        assembly ("memory-safe") {
            for {} 1 {} {
                if iszero(lt(ptr, end)) {
                    err := 1
                    break
                }
                let prefix := byte(0, mload(ptr))
                if lt(prefix, 0x80) {
                    payload := ptr
                    payloadLen := 1
                    break
                }
                payload := add(ptr, 1)
                if lt(prefix, 0xb8) {
                    payloadLen := sub(prefix, 0x80)
                    if gt(payloadLen, sub(end, payload)) {
                        err := 2
                        break
                    }
                    if and(eq(payloadLen, 1), lt(byte(0, mload(payload)), 0x80)) { err := 3 }
                    break
                }
                if and(gt(prefix, 0xbf), lt(prefix, 0xf8)) {
                    isList := 1
                    payloadLen := sub(prefix, 0xc0)
                    if gt(payloadLen, sub(end, payload)) { err := 4 }
                    break
                }
                // Long form: the length takes 1..8 bytes after the prefix.
                isList := gt(prefix, 0xbf)
                let lenOfLen := sub(prefix, add(0xb7, mul(isList, 0x40)))
                if iszero(lt(lenOfLen, sub(end, ptr))) {
                    err := 5
                    break
                }
                if iszero(byte(0, mload(payload))) {
                    err := 6
                    break
                }
                payloadLen := shr(sub(256, shl(3, lenOfLen)), mload(payload))
                if lt(payloadLen, 56) {
                    err := 7
                    break
                }
                payload := add(payload, lenOfLen)
                if gt(payloadLen, sub(end, payload)) { err := 8 }
                break
            }
        }
        if (err != 0) _fail(err);
    }

    /// The address just past the item starting at `ptr` (validated as {header} does).
    function skip(uint256 ptr, uint256 end) internal pure returns (uint256 next) {
        (, uint256 payload, uint256 payloadLen) = header(ptr, end);
        unchecked {
            return payload + payloadLen; // header checked payload + payloadLen <= end
        }
    }

    /// Decodes the string item at `ptr` as a canonical unsigned integer of at most `maxLen` bytes.
    /// @return value the integer
    /// @return next the address just past the item
    function readUint(uint256 ptr, uint256 end, uint256 maxLen) internal pure returns (uint256 value, uint256 next) {
        (bool isList, uint256 payload, uint256 len) = header(ptr, end);
        if (isList) revert RLPMalformed("integer is a list");
        if (len > maxLen) revert RLPMalformed("integer too long");
        if (len != 0) {
            if (byteAt(payload) == 0) revert RLPMalformed("integer has leading zero");
            assembly ("memory-safe") {
                value := shr(sub(256, shl(3, len)), mload(payload))
            }
        }
        unchecked {
            return (value, payload + len);
        }
    }

    /// Decodes the string item at `ptr` as exactly 32 bytes.
    /// @return value the 32 bytes
    /// @return next the address just past the item
    function readBytes32(uint256 ptr, uint256 end) internal pure returns (bytes32 value, uint256 next) {
        (bool isList, uint256 payload, uint256 len) = header(ptr, end);
        if (isList || len != 32) revert RLPMalformed("expected a 32-byte string");
        assembly ("memory-safe") {
            value := mload(payload)
        }
        unchecked {
            return (value, payload + 32);
        }
    }

    /// A fresh copy of the `len` bytes at `ptr`.
    function copy(uint256 ptr, uint256 len) internal pure returns (bytes memory out) {
        assembly ("memory-safe") {
            out := mload(0x40)
            mstore(out, len)
            let data := add(out, 0x20)
            mcopy(data, ptr, len)
            mstore(0x40, add(data, and(add(len, 31), not(31))))
        }
    }

    /// Reverts with the reason for {header}'s error code `err`.
    function _fail(uint256 err) private pure {
        if (err == 1) revert RLPMalformed("item out of bounds");
        if (err == 2) revert RLPMalformed("string exceeds input");
        if (err == 3) revert RLPMalformed("non-canonical single byte");
        if (err == 4) revert RLPMalformed("list exceeds input");
        if (err == 5) revert RLPMalformed("length exceeds input");
        if (err == 6) revert RLPMalformed("length has leading zero");
        if (err == 7) revert RLPMalformed("non-canonical long length");
        revert RLPMalformed("item exceeds input");
    }
}

/// @title MerkleTrie
/// @notice Verifies Merkle-Patricia trie proofs (inclusion and exclusion) as `eth_getProof`
///         returns them: the RLP of every hash-referenced node on the key's path, root first.
///         Nodes shorter than 32 bytes are embedded in their parent, not listed.
/// @dev Strict: every node must match its reference, the proof must end exactly where the answer
///      is known (no missing, no extra nodes), and nodes must be well-formed (a list of 2 or 17
///      items, a valid hex-prefix path, child references that are a 32-byte hash, an embedded
///      node of fewer than 32 bytes, or empty in a branch). Node-level violations revert with
///      {MerkleProofInvalid}, RLP-level ones with {RLPReader.RLPMalformed}.
library MerkleTrie {
    /// The proof does not verify; `nodeIndex` is the index in the proof of the offending node
    /// (the proof's length when a node is missing).
    error MerkleProofInvalid(uint256 nodeIndex, string reason);

    /// The root of the empty trie: keccak256(rlp("")) = keccak256(0x80).
    bytes32 internal constant EMPTY_TRIE_ROOT = 0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421;

    // What one step down the trie found.
    uint256 private constant _FOUND = 0; // the value is at [a, a + b)
    uint256 private constant _ABSENT = 1; // the key is proven absent
    uint256 private constant _HASH = 2; // continue at the proof's next node, whose hash must be a
    uint256 private constant _INLINE = 3; // continue at the embedded node [a, b)

    /// Where the walk is: the key (as nibbles), how much of it is consumed, the current proof node.
    struct Cursor {
        uint256 keyPtr;
        uint256 keyNibbles;
        uint256 pos;
        uint256 nodeIndex;
    }

    /// Looks `key` (raw bytes; its nibbles are the path) up in the trie with root `root`.
    /// Absence is proven by an empty branch slot or value, or a leaf or extension whose path
    /// diverges from the key (or that the key ends inside). The empty trie's root is proven by
    /// an empty proof (or the single node 0x80). Reverts with {MerkleProofInvalid} or
    /// {RLPReader.RLPMalformed} on any proof that does not verify; a leaf with an empty value
    /// (which Ethereum tries never hold) is invalid too.
    /// @param proof the RLP of every hash-referenced node on the key's path, root first
    /// @return exists whether the proof shows the key present
    /// @return value the value stored at the key (the leaf's or branch's value string payload);
    ///         empty when absent
    function get(bytes memory key, bytes[] memory proof, bytes32 root)
        internal
        pure
        returns (bool exists, bytes memory value)
    {
        uint256 n = proof.length;
        if (n == 0) {
            if (root == EMPTY_TRIE_ROOT) return (false, "");
            revert MerkleProofInvalid(0, "empty proof for a non-empty root");
        }
        // Unchecked: indices are bounded by the proof length, addresses and lengths by memory.
        unchecked {
            Cursor memory c = Cursor(RLPReader.memPtr(key), key.length * 2, 0, 0);
            bytes32 expected = root;
            for (uint256 i; i < n; ++i) {
                bytes memory node = proof[i];
                if (keccak256(node) != expected) revert MerkleProofInvalid(i, "node hash mismatch");
                c.nodeIndex = i;
                uint256 ptr = RLPReader.memPtr(node);
                uint256 end = ptr + node.length;
                if (i == 0) {
                    // The empty trie, spelled out as its (empty string) root node.
                    if (node.length == 1 && RLPReader.byteAt(ptr) == 0x80) {
                        if (n != 1) revert MerkleProofInvalid(1, "extra proof nodes");
                        return (false, "");
                    }
                } else if (node.length < 32) {
                    revert MerkleProofInvalid(i, "node under 32 bytes referenced by hash");
                }
                (uint256 kind, uint256 a, uint256 b) = _walk(ptr, end, c);
                if (kind == _HASH) {
                    expected = bytes32(a);
                    continue;
                }
                if (i + 1 != n) revert MerkleProofInvalid(i + 1, "extra proof nodes");
                if (kind == _ABSENT) return (false, "");
                return (true, RLPReader.copy(a, b));
            }
        }
        revert MerkleProofInvalid(n, "proof truncated");
    }

    /// `get(abi.encodePacked(keccak256(key)), proof, root)`: a lookup in a "secure" trie (the
    /// Ethereum state and storage tries), whose paths are the hashes of the keys.
    function getSecure(bytes memory key, bytes[] memory proof, bytes32 root)
        internal
        pure
        returns (bool exists, bytes memory value)
    {
        return get(abi.encodePacked(keccak256(key)), proof, root);
    }

    /// The storage root (3rd field) of an RLP account `[nonce, balance, storageRoot, codeHash]`.
    function accountStorageRoot(bytes memory account) internal pure returns (bytes32 storageRoot) {
        uint256 ptr = RLPReader.memPtr(account);
        uint256 end;
        unchecked {
            end = ptr + account.length;
        }
        (bool isList, uint256 q, uint256 len) = RLPReader.header(ptr, end);
        if (!isList || len != end - q) revert RLPReader.RLPMalformed("account is not a single list");
        (, q) = RLPReader.readUint(q, end, 8); // nonce
        (, q) = RLPReader.readUint(q, end, 32); // balance
        (storageRoot, q) = RLPReader.readBytes32(q, end);
        (, q) = RLPReader.readBytes32(q, end); // code hash
        if (q != end) revert RLPReader.RLPMalformed("account has more than 4 fields");
    }

    /// Decodes `rlp(uint)` (a canonical integer of at most 32 bytes, as storage tries hold values).
    function decodeUint(bytes memory rlpUint) internal pure returns (uint256 value) {
        uint256 ptr = RLPReader.memPtr(rlpUint);
        uint256 end;
        unchecked {
            end = ptr + rlpUint.length;
        }
        uint256 next;
        (value, next) = RLPReader.readUint(ptr, end, 32);
        if (next != end) revert RLPReader.RLPMalformed("trailing bytes after integer");
    }

    /// Follows the key through the node at [ptr, end) and the nodes embedded in it, until an
    /// answer or a hash reference to the next proof node.
    function _walk(uint256 ptr, uint256 end, Cursor memory c) private pure returns (uint256 kind, uint256 a, uint256 b) {
        while (true) {
            (kind, a, b) = _step(ptr, end, c);
            if (kind != _INLINE) return (kind, a, b);
            (ptr, end) = (a, b);
        }
    }

    /// One node: a branch (17 items) or a leaf/extension (2 items).
    function _step(uint256 ptr, uint256 end, Cursor memory c) private pure returns (uint256, uint256, uint256) {
        (bool isList, uint256 p, uint256 len) = RLPReader.header(ptr, end);
        if (!isList) revert MerkleProofInvalid(c.nodeIndex, "node is not a list");
        if (len != end - p) revert MerkleProofInvalid(c.nodeIndex, "trailing bytes after node");
        uint256 want = c.pos < c.keyNibbles ? _nibble(c.keyPtr, c.pos) : 16;
        (uint256 count, uint256 item0, uint256 item1, uint256 wanted) = _items(p, end, want, c.nodeIndex);
        if (count == 17) return _branch(wanted, end, want, c);
        if (count == 2) return _short(item0, item1, end, c);
        revert MerkleProofInvalid(c.nodeIndex, "node has neither 2 nor 17 items");
    }

    /// Walks a node's items: their number, where the first two and the `want`th start.
    function _items(uint256 p, uint256 end, uint256 want, uint256 nodeIndex)
        private
        pure
        returns (uint256 count, uint256 item0, uint256 item1, uint256 wanted)
    {
        while (p < end) {
            bool slow;
            // Fast path for the usual branch slots, empty (0x80) and hash (0xa0 and 32 bytes):
            // both are always canonical. Any other item goes through the full {RLPReader.skip}.
            assembly ("memory-safe") {
                for {} lt(p, end) {} {
                    switch count
                    case 0 { item0 := p }
                    case 1 { item1 := p }
                    if eq(count, want) { wanted := p }
                    count := add(count, 1)
                    if gt(count, 17) { break }
                    let prefix := byte(0, mload(p))
                    if eq(prefix, 0x80) {
                        p := add(p, 1)
                        continue
                    }
                    if and(eq(prefix, 0xa0), gt(sub(end, p), 32)) {
                        p := add(p, 33)
                        continue
                    }
                    slow := 1
                    break
                }
            }
            if (count > 17) revert MerkleProofInvalid(nodeIndex, "node has more than 17 items");
            if (slow) p = RLPReader.skip(p, end);
        }
    }

    /// The branch slot `want` (a child, or the value when `want` is 16) starting at `item`.
    function _branch(uint256 item, uint256 end, uint256 want, Cursor memory c)
        private
        pure
        returns (uint256, uint256, uint256)
    {
        (bool isList, uint256 p, uint256 len) = RLPReader.header(item, end);
        if (want == 16) {
            if (isList) revert MerkleProofInvalid(c.nodeIndex, "branch value is a list");
            if (len == 0) return (_ABSENT, 0, 0);
            return (_FOUND, p, len);
        }
        unchecked {
            c.pos += 1; // want < 16: a key nibble was left
        }
        if (!isList && len == 0) return (_ABSENT, 0, 0);
        return _child(item, isList, p, len, c);
    }

    /// A leaf or an extension: items are the hex-prefix path and the value or child.
    function _short(uint256 item0, uint256 item1, uint256 end, Cursor memory c)
        private
        pure
        returns (uint256, uint256, uint256)
    {
        (bool isLeaf, uint256 pathNibbles, bool matched) = _path(item0, end, c);
        (bool isList, uint256 p, uint256 len) = RLPReader.header(item1, end);
        if (isLeaf) {
            if (isList) revert MerkleProofInvalid(c.nodeIndex, "leaf value is a list");
            if (len == 0) revert MerkleProofInvalid(c.nodeIndex, "leaf value is empty");
            return matched ? (_FOUND, p, len) : (_ABSENT, 0, 0);
        }
        if (pathNibbles == 0) revert MerkleProofInvalid(c.nodeIndex, "extension path is empty");
        if (!isList && len == 0) revert MerkleProofInvalid(c.nodeIndex, "extension child is empty");
        if (!matched) return (_ABSENT, 0, 0);
        unchecked {
            c.pos += pathNibbles; // matched: pathNibbles <= remaining
        }
        return _child(item1, isList, p, len, c);
    }

    /// A child reference: a 32-byte hash (the next proof node) or an embedded node under 32 bytes.
    function _child(uint256 item, bool isList, uint256 p, uint256 len, Cursor memory c)
        private
        pure
        returns (uint256, uint256, uint256)
    {
        if (isList) {
            uint256 itemEnd;
            unchecked {
                itemEnd = p + len; // header checked it is in range
            }
            if (itemEnd - item >= 32) revert MerkleProofInvalid(c.nodeIndex, "embedded node of 32 bytes or more");
            return (_INLINE, item, itemEnd);
        }
        if (len != 32) revert MerkleProofInvalid(c.nodeIndex, "child reference is neither hash nor node");
        uint256 hash;
        assembly ("memory-safe") {
            hash := mload(p)
        }
        return (_HASH, hash, 0);
    }

    /// Decodes the hex-prefix path at `item` and compares it with the rest of the key.
    /// @return isLeaf the leaf flag
    /// @return pathNibbles the path's length in nibbles
    /// @return matched for a leaf: the path is the rest of the key; for an extension: the path
    ///         is a prefix of the rest of the key
    function _path(uint256 item, uint256 end, Cursor memory c)
        private
        pure
        returns (bool isLeaf, uint256 pathNibbles, bool matched)
    {
        (bool isList, uint256 p, uint256 len) = RLPReader.header(item, end);
        if (isList || len == 0) revert MerkleProofInvalid(c.nodeIndex, "node path is not a non-empty string");
        uint256 first = RLPReader.byteAt(p);
        uint256 flag = first >> 4;
        if (flag > 3) revert MerkleProofInvalid(c.nodeIndex, "invalid hex-prefix flag");
        uint256 odd = flag & 1;
        if (odd == 0 && first & 0x0f != 0) revert MerkleProofInvalid(c.nodeIndex, "invalid hex-prefix padding");
        isLeaf = flag >= 2;
        unchecked {
            // len >= 1, and the cursor never passes the key's end.
            pathNibbles = 2 * len - 2 + odd;
            uint256 remaining = c.keyNibbles - c.pos;
            matched = (isLeaf ? pathNibbles == remaining : pathNibbles <= remaining)
                && _matches(c.keyPtr, c.pos, p, 2 - odd, pathNibbles);
        }
    }

    /// The nibble at index `i` of the bytes at `ptr` (high nibble first).
    function _nibble(uint256 ptr, uint256 i) private pure returns (uint256 nib) {
        assembly ("memory-safe") {
            nib := and(shr(shl(2, iszero(and(i, 1))), byte(0, mload(add(ptr, shr(1, i))))), 0x0f)
        }
    }

    /// Whether the `n` key nibbles from `keyPos` equal the `n` path nibbles from `pathStart`
    /// (both in range). Aligned ranges (the usual case, and always for leaves) compare by words.
    function _matches(uint256 keyPtr, uint256 keyPos, uint256 pathPtr, uint256 pathStart, uint256 n)
        private
        pure
        returns (bool ok)
    {
        assembly ("memory-safe") {
            function nibble(p, i) -> v {
                v := and(shr(shl(2, iszero(and(i, 1))), byte(0, mload(add(p, shr(1, i))))), 0x0f)
            }
            ok := 1
            switch eq(and(keyPos, 1), and(pathStart, 1))
            case 0 {
                for { let k := 0 } lt(k, n) { k := add(k, 1) } {
                    if iszero(eq(nibble(keyPtr, add(keyPos, k)), nibble(pathPtr, add(pathStart, k)))) {
                        ok := 0
                        break
                    }
                }
            }
            default {
                if and(and(keyPos, 1), gt(n, 0)) {
                    ok := eq(nibble(keyPtr, keyPos), nibble(pathPtr, pathStart))
                    keyPos := add(keyPos, 1)
                    pathStart := add(pathStart, 1)
                    n := sub(n, 1)
                }
                let a := add(keyPtr, shr(1, keyPos))
                let b := add(pathPtr, shr(1, pathStart))
                for { let left := shr(1, n) } and(ok, gt(left, 0)) {} {
                    let l := left
                    if gt(l, 32) { l := 32 }
                    let mask := not(shr(shl(3, l), not(0)))
                    ok := eq(and(mload(a), mask), and(mload(b), mask))
                    a := add(a, l)
                    b := add(b, l)
                    left := sub(left, l)
                }
                if and(ok, and(n, 1)) { ok := eq(shr(4, byte(0, mload(a))), shr(4, byte(0, mload(b)))) }
            }
        }
    }
}
