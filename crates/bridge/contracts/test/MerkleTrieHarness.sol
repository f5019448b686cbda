// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MerkleTrie} from "../lib/MerkleTrie.sol";

/// @title MerkleTrieHarness
/// @notice Test-only: exposes the {MerkleTrie} library to tests that run it in a real EVM.
contract MerkleTrieHarness {
    function get(bytes memory key, bytes[] memory proof, bytes32 root)
        external
        pure
        returns (bool exists, bytes memory value)
    {
        return MerkleTrie.get(key, proof, root);
    }

    function getSecure(bytes memory key, bytes[] memory proof, bytes32 root)
        external
        pure
        returns (bool exists, bytes memory value)
    {
        return MerkleTrie.getSecure(key, proof, root);
    }

    function accountStorageRoot(bytes memory account) external pure returns (bytes32) {
        return MerkleTrie.accountStorageRoot(account);
    }

    function decodeUint(bytes memory rlpUint) external pure returns (uint256) {
        return MerkleTrie.decodeUint(rlpUint);
    }

    /// The value of storage slot `slot` of `account` in the state with root `stateRoot`, from an
    /// `eth_getProof` account proof and storage proof. An absent account has empty storage (its
    /// storage proof must then be empty); an absent slot reads as `(false, 0)`.
    function storageSlotValue(
        bytes32 stateRoot,
        address account,
        bytes32 slot,
        bytes[] memory accountProof,
        bytes[] memory storageProof
    ) public pure returns (bool exists, uint256 value) {
        (bool found, bytes memory rlpAccount) = MerkleTrie.getSecure(abi.encodePacked(account), accountProof, stateRoot);
        bytes32 storageRoot = found ? MerkleTrie.accountStorageRoot(rlpAccount) : MerkleTrie.EMPTY_TRIE_ROOT;
        bytes memory raw;
        (exists, raw) = MerkleTrie.getSecure(abi.encodePacked(slot), storageProof, storageRoot);
        if (exists) value = MerkleTrie.decodeUint(raw);
    }

    /// {storageSlotValue} plus the gas it used (proof verification only, after ABI decoding).
    function storageSlotValueGas(
        bytes32 stateRoot,
        address account,
        bytes32 slot,
        bytes[] memory accountProof,
        bytes[] memory storageProof
    ) external view returns (bool exists, uint256 value, uint256 gasUsed) {
        uint256 before = gasleft();
        (exists, value) = storageSlotValue(stateRoot, account, slot, accountProof, storageProof);
        gasUsed = before - gasleft();
    }
}
