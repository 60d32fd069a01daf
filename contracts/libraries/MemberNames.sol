// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title MemberNames
/// @notice The rules of a consortium member's name, as pure logic: 1 to 64 bytes; no control
/// character (C0 `0x00`-`0x1f`, DEL `0x7f`, or C1 `U+0080`-`U+009F` in UTF-8); no leading,
/// trailing or doubled space. Names are unique case-insensitively: {key} folds ASCII `A`-`Z`
/// to `a`-`z` (other bytes compare as they are) and hashes the result, so "ACME NETWORKS" and
/// "Acme Networks" have the same key.
library MemberNames {
    /// @dev Maximum length of a name, in bytes.
    uint256 internal constant MAX_LENGTH = 64;

    /// @notice Whether `name` is a valid member name, and its uniqueness key.
    /// @param name The name, UTF-8.
    /// @return valid False when `name` breaks a rule above.
    /// @return nameKey `keccak256` of the ASCII-lower-cased name (zero when not valid).
    function key(string memory name) internal pure returns (bool valid, bytes32 nameKey) {
        bytes memory raw = bytes(name);
        uint256 n = raw.length;
        if (n == 0 || n > MAX_LENGTH || raw[0] == " " || raw[n - 1] == " ") return (false, 0);
        bytes memory folded = new bytes(n);
        uint8 previous;
        for (uint256 i = 0; i < n; ++i) {
            uint8 c = uint8(raw[i]);
            if (c < 0x20 || c == 0x7f || (c == 0x20 && previous == 0x20)) return (false, 0);
            if (previous == 0xc2 && c >= 0x80 && c <= 0x9f) return (false, 0); // C1 control, UTF-8
            folded[i] = bytes1(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
            previous = c;
        }
        return (true, keccak256(folded));
    }
}
