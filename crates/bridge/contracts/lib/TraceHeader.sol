// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// The fields of an L2 block header `NativeRollup` needs, read straight from an EXECUTE trace in
/// calldata (`version 0x00 ‖ rlp([block, witness, blobRefs, batchIndex])`, block =
/// `rlp([header, …])`; or a run, `version 0x01 ‖ rlp([[block, …], witness, blobRefs,
/// firstBatchIndex])` or, with the witness in blobs, `version 0x02 ‖ rlp([[block, …], blobRefs,
/// firstBatchIndex])`): only the RLP prefixes on the way to the headers are walked, and only the
/// headers are hashed, so the cost does not grow with the witness.
library TraceHeader {
    /// The header fields the rollup fixes or records (Prague header: fields 0–20).
    struct Header {
        bytes32 hash;
        bytes32 parentHash; // 0
        bytes32 stateRoot; // 3
        uint64 number; // 8
        uint64 gasLimit; // 9
        uint64 gasUsed; // 10
        uint64 timestamp; // 11
        bytes32 mixHash; // 13 (prevRandao)
        bytes32 withdrawalsRoot; // 16
        uint64 blobGasUsed; // 17
        uint64 excessBlobGas; // 18
        bytes32 parentBeaconBlockRoot; // 19
    }

    /// The trace is not `0x00 ‖ rlp([[header, …], …])` with a well-formed header at `offset`.
    error MalformedTrace(uint256 offset);

    function read(bytes calldata trace) internal pure returns (Header memory h) {
        (uint256 blk, uint256 end) = headerSpan(trace);
        h.hash = keccak256(trace[blk:end]);
        readFields(trace, blk, end, h);
    }

    /// The blocks of a run trace (version 0x01 or 0x02: the list of blocks is the body's first
    /// field in both): where the first block's RLP starts and where the list of blocks ends.
    function runBlocks(bytes calldata trace) internal pure returns (uint256 first, uint256 end) {
        if (trace.length == 0 || (trace[0] != 0x01 && trace[0] != 0x02)) revert MalformedTrace(0);
        (uint256 body,, bool list) = item(trace, 1);
        if (!list) revert MalformedTrace(1);
        (uint256 blocks, uint256 len, bool blocksList) = item(trace, body);
        if (!blocksList) revert MalformedTrace(body);
        return (blocks, blocks + len);
    }

    /// The header of the run's block at `offset` (the list of blocks ends at `end`), and where the
    /// next block starts.
    function readAt(bytes calldata trace, uint256 offset, uint256 end)
        internal
        pure
        returns (Header memory h, uint256 next)
    {
        if (offset >= end) revert MalformedTrace(offset);
        (uint256 blk, uint256 blkLen, bool blockList) = item(trace, offset);
        next = blk + blkLen;
        if (!blockList || next > end) revert MalformedTrace(offset);
        (uint256 fields, uint256 len, bool headerList) = item(trace, blk);
        if (!headerList || fields + len > next) revert MalformedTrace(blk);
        h.hash = keccak256(trace[blk:fields + len]);
        readFields(trace, blk, fields + len, h);
    }

    /// Where the header's RLP starts and ends.
    function headerSpan(bytes calldata trace) private pure returns (uint256 blk, uint256 end) {
        if (trace.length == 0 || trace[0] != 0x00) revert MalformedTrace(0);
        (uint256 body,, bool list) = item(trace, 1);
        if (!list) revert MalformedTrace(1);
        bool blockList;
        (blk,, blockList) = item(trace, body);
        if (!blockList) revert MalformedTrace(body);
        (uint256 fields, uint256 len, bool headerList) = item(trace, blk);
        if (!headerList) revert MalformedTrace(blk);
        end = fields + len;
    }

    function readFields(bytes calldata trace, uint256 blk, uint256 end, Header memory h) private pure {
        (uint256 offset,,) = item(trace, blk);
        // Fields 0..19 must be there (an L2 block is a Prague block); field 20 (requests hash) is
        // not read: the rollup accepts any requests (docs/protocol.md §8.4).
        for (uint256 i = 0; i < 20; i++) {
            (uint256 start, uint256 size, bool isList) = item(trace, offset);
            if (isList || start + size > end) revert MalformedTrace(offset);
            if (i == 0) h.parentHash = word(trace, start, size, 32);
            else if (i == 3) h.stateRoot = word(trace, start, size, 32);
            else if (i == 8) h.number = uint64(uint256(word(trace, start, size, 0)));
            else if (i == 9) h.gasLimit = uint64(uint256(word(trace, start, size, 0)));
            else if (i == 10) h.gasUsed = uint64(uint256(word(trace, start, size, 0)));
            else if (i == 11) h.timestamp = uint64(uint256(word(trace, start, size, 0)));
            else if (i == 13) h.mixHash = word(trace, start, size, 32);
            else if (i == 16) h.withdrawalsRoot = word(trace, start, size, 32);
            else if (i == 17) h.blobGasUsed = uint64(uint256(word(trace, start, size, 0)));
            else if (i == 18) h.excessBlobGas = uint64(uint256(word(trace, start, size, 0)));
            else if (i == 19) h.parentBeaconBlockRoot = word(trace, start, size, 32);
            offset = start + size;
        }
    }

    /// The RLP item at `offset`: where its payload starts, its length, and whether it is a list.
    function item(bytes calldata b, uint256 offset) internal pure returns (uint256 start, uint256 len, bool list) {
        if (offset >= b.length) revert MalformedTrace(offset);
        uint256 prefix = uint8(b[offset]);
        if (prefix < 0x80) return (offset, 1, false);
        if (prefix < 0xb8) {
            (start, len) = (offset + 1, prefix - 0x80);
        } else if (prefix < 0xc0) {
            uint256 size = prefix - 0xb7;
            (start, len) = (offset + 1 + size, bigEndian(b, offset + 1, size));
        } else if (prefix < 0xf8) {
            (start, len, list) = (offset + 1, prefix - 0xc0, true);
        } else {
            uint256 size = prefix - 0xf7;
            (start, len, list) = (offset + 1 + size, bigEndian(b, offset + 1, size), true);
        }
        if (start + len > b.length) revert MalformedTrace(offset);
    }

    function bigEndian(bytes calldata b, uint256 offset, uint256 size) private pure returns (uint256 v) {
        if (size > 8 || offset + size > b.length) revert MalformedTrace(offset);
        for (uint256 i = 0; i < size; i++) {
            v = (v << 8) | uint8(b[offset + i]);
        }
    }

    /// A string payload as a right-aligned word (`exact` = required length, 0 = an integer of at
    /// most 8 bytes).
    function word(bytes calldata b, uint256 start, uint256 size, uint256 exact) private pure returns (bytes32) {
        if (exact != 0 ? size != exact : size > 8) revert MalformedTrace(start);
        return bytes32(bigEndianWord(b, start, size));
    }

    function bigEndianWord(bytes calldata b, uint256 start, uint256 size) private pure returns (uint256 v) {
        for (uint256 i = 0; i < size; i++) {
            v = (v << 8) | uint8(b[start + i]);
        }
    }
}
