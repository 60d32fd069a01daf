// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title AssetHistory
/// @notice The history head of a digital twin: a hash chain over its changes, so that anyone
/// holding the change events can check that an off-chain copy of the history is complete
/// and untampered by recomputing the head and comparing it with the chain.
///
/// Every change (registration included) advances the head:
///
/// ```
/// head_n = bytes24(keccak256(abi.encode(
///     bytes24 head_{n-1},   // 0 for the registration (n = 1)
///     bytes32 assetId,
///     uint8   change,       // ChangeKind: 0 Register, 1 Transition, 2 SerialBind, 3 Link, 4 CustodyTransfer, 5 Parties
///     uint32  version,      // n: 1 for the registration, +1 per change
///     bytes32 ref,
///     address actor,        // the member who asked for the change
///     bytes32 detailsHash,
///     bytes32 w0, bytes32 w1, bytes32 w2, bytes32 w3   // the change's data, below
/// )))
/// ```
///
/// | change          | w0                      | w1                 | w2       | w3        |
/// | --------------- | ----------------------- | ------------------ | -------- | --------- |
/// | Register        | kind (bytes12, left)    | serialHash (or 0)  | rootId   | orderId   |
/// | Transition      | from state (uint8)      | to state (uint8)   | 0        | 0         |
/// | SerialBind      | serialHash              | 0                  | 0        | 0         |
/// | Link            | rootId                  | orderId            | 0        | 0         |
/// | CustodyTransfer | from custodian (address)| to custodian       | 0        | 0         |
/// | Parties         | customer (address)      | vendor (address)   | onLine (bool) | served (bool) |
///
/// Each word is the 32-byte ABI encoding of its field (`bytesN` left-aligned, integers,
/// enums and addresses right-aligned), i.e. the preimage is always 11 words (352 bytes) and
/// equals `abi.encode(prev, assetId, change, version, ref, actor, detailsHash, <fields...>)`
/// followed by zero words up to 11. Every input is carried by the change's event.
/// @dev The head is truncated to 192 bits so that it shares one storage slot with the
/// asset's state and version: a transition writes a single slot (see docs/assets.md).
library AssetHistory {
    /// @notice What a history step changed.
    enum ChangeKind {
        Register,
        Transition,
        SerialBind,
        Link,
        CustodyTransfer,
        Parties
    }

    /// @notice The head after a change (see the library's documentation for the encoding).
    /// @param prev The head before the change (0 for the registration).
    /// @param assetId The asset.
    /// @param change The kind of change.
    /// @param version The asset's version after the change.
    /// @param ref The correlation id of the action.
    /// @param actor The member who asked for the change.
    /// @param detailsHash The commitment to the change's off-chain details.
    /// @param data The change's data words `w0..w3`.
    /// @return The new head.
    function next(
        bytes24 prev,
        bytes32 assetId,
        ChangeKind change,
        uint32 version,
        bytes32 ref,
        address actor,
        bytes32 detailsHash,
        bytes32[4] memory data
    ) internal pure returns (bytes24) {
        return bytes24(keccak256(abi.encode(prev, assetId, change, version, ref, actor, detailsHash, data)));
    }
}
