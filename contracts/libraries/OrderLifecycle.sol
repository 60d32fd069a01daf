// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title OrderLifecycle
/// @notice The states of customer orders, service items and device lines (TM Forum TMF622 /
/// TMF641 values), the item actions and change policies, and THE transition table (one place
/// in code; docs/orders.md mirrors it, tests/contracts/orders keep them equal).
///
/// The table ({targets}) holds for orders, service items and device lines alike. `None` (0)
/// is "does not exist": no edge enters or leaves it (creation puts a record in
/// `Acknowledged`, or a paused new device line in `Held`). `Rejected`, `Cancelled`,
/// `Completed`, `Failed` and `Partial` are terminal. A cancellation always walks
/// `assessingCancellation → pendingCancellation → cancelled`: there is no direct edge into
/// `Cancelled`.
library OrderLifecycle {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice TMF622 / TMF641 state of an order, a service item or a device line.
    enum State {
        None,
        Acknowledged,
        Rejected,
        Pending,
        Held,
        InProgress,
        Cancelled,
        Completed,
        Failed,
        Partial,
        AssessingCancellation,
        PendingCancellation
    }

    /// @notice TMF622 item action of a service item (and, in a revision, of a device line).
    enum ItemAction {
        Add,
        Modify,
        Delete,
        NoChange
    }

    /// @notice What a revision does to a device line (seed 001 "Test approach resiliency").
    /// `Pause`: hold the line and tell its supplier at once that the order is being re-planned.
    /// `AutoCorrect`: carry on; only devices the revision adds get ordered.
    enum ChangePolicy {
        Pause,
        AutoCorrect
    }

    /*//////////////////////////////////////////////////////////////
                               THE TABLE
    //////////////////////////////////////////////////////////////*/

    /// @notice The states reachable from `from` in one step, as a bit set (bit `i` for
    /// `State(i)`).
    /// @param from The current state.
    /// @return to The allowed target states.
    function targets(State from) internal pure returns (uint256 to) {
        if (from == State.Acknowledged) {
            return _b(State.Rejected) | _b(State.Pending) | _b(State.Held) | _b(State.InProgress)
                | _b(State.AssessingCancellation);
        }
        if (from == State.Pending) {
            return _b(State.Held) | _b(State.InProgress) | _b(State.AssessingCancellation);
        }
        if (from == State.Held) {
            return _b(State.Pending) | _b(State.InProgress) | _b(State.AssessingCancellation);
        }
        if (from == State.InProgress) {
            return _b(State.Pending) | _b(State.Held) | _b(State.Completed) | _b(State.Failed) | _b(State.Partial)
                | _b(State.AssessingCancellation);
        }
        if (from == State.AssessingCancellation) {
            // cancellation accepted, or refused (the item resumes where the work stands)
            return _b(State.PendingCancellation) | _b(State.Pending) | _b(State.Held) | _b(State.InProgress);
        }
        if (from == State.PendingCancellation) return _b(State.Cancelled);
        return 0; // None and the terminal states
    }

    /// @notice Whether `from → to` is an edge of the table.
    function canTransition(State from, State to) internal pure returns (bool) {
        return targets(from) & _b(to) != 0;
    }

    /// @notice Whether no edge leaves `s` (and `s` is not `None`).
    function isTerminal(State s) internal pure returns (bool) {
        return s != State.None && targets(s) == 0;
    }

    function _b(State s) private pure returns (uint256) {
        return uint256(1) << uint8(s);
    }
}
