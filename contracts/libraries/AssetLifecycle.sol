// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title AssetLifecycle
/// @notice The lifecycle of a digital twin: its states, the verbs that move it, and THE
/// transition table (one place in code; docs/assets.md mirrors it, a test keeps them equal).
///
/// Every edge of the lifecycle belongs to exactly one verb ({rule}: one row per verb, its
/// source states and its target), and every verb is its own action with its own permission
/// (the vendor delivers, the operator commissions, ...).
///
/// Guards on top of the table: entering `Active` requires a bound serial
/// ({requiresSerial}); entering `Decommissioned` releases the serial ({releasesSerial});
/// `Decommissioned` is terminal (no edge leaves it). `None` is "no such asset": no edge
/// enters or leaves it (registration creates an asset in `Planned`).
library AssetLifecycle {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice A digital twin's lifecycle state. `None` (0): the asset does not exist.
    enum State {
        None,
        Planned,
        PendingInstallation,
        Delivered,
        Active,
        PendingChange,
        PendingDisconnect,
        Inactive,
        Recovering,
        Decommissioned
    }

    /// @notice The verbs of the lifecycle; each is one action of the AssetRegistry.
    enum Verb {
        ScheduleInstallation,
        CancelInstallation,
        Deliver,
        Commission,
        RequestChange,
        CompleteChange,
        CompleteDeletion,
        RequestDisconnect,
        WithdrawDisconnect,
        CompleteDisconnect,
        Recover,
        Decommission
    }

    /*//////////////////////////////////////////////////////////////
                            THE TABLE
    //////////////////////////////////////////////////////////////*/

    /// @notice The transition table: the states `verb` may start from (a bit set, bit `i` for
    /// `State(i)`) and the state it leads to.
    /// @param verb The verb.
    /// @return from The set of states the verb applies to.
    /// @return to The state the verb leads to.
    function rule(Verb verb) internal pure returns (uint256 from, State to) {
        if (verb == Verb.ScheduleInstallation) {
            // plan approved, install ordered; or reconnect a disconnected asset (new install order)
            return (_bit(State.Planned) | _bit(State.Inactive), State.PendingInstallation);
        }
        if (verb == Verb.CancelInstallation) {
            // install cancelled or paused (re-planning) before anything reached the site
            return (_bit(State.PendingInstallation), State.Planned);
        }
        if (verb == Verb.Deliver) {
            // the device is on site, ready to commission
            return (_bit(State.PendingInstallation), State.Delivered);
        }
        if (verb == Verb.Commission) {
            // installed and in service (needs a bound serial)
            return (_bit(State.Delivered), State.Active);
        }
        if (verb == Verb.RequestChange) {
            // a MACD order (move, add, change, delete) is being worked
            return (_bit(State.Active), State.PendingChange);
        }
        if (verb == Verb.CompleteChange) {
            // the MACD change is done (or withdrawn): back in service
            return (_bit(State.PendingChange), State.Active);
        }
        if (verb == Verb.CompleteDeletion) {
            // a MACD delete completed: out of service
            return (_bit(State.PendingChange), State.Inactive);
        }
        if (verb == Verb.RequestDisconnect) {
            // customer request or non-payment: final charges / refunds being settled
            return (_bit(State.Active), State.PendingDisconnect);
        }
        if (verb == Verb.WithdrawDisconnect) {
            // the disconnect was withdrawn (request cancelled, overdue invoice paid)
            return (_bit(State.PendingDisconnect), State.Active);
        }
        if (verb == Verb.CompleteDisconnect) {
            // final charges settled: out of service
            return (_bit(State.PendingDisconnect), State.Inactive);
        }
        if (verb == Verb.Recover) {
            // the device must be collected: order cancelled after delivery, or after a disconnect
            return (_bit(State.Delivered) | _bit(State.Inactive), State.Recovering);
        }
        // Verb.Decommission: the device is back (recovered), or the asset was never built
        return (_bit(State.Planned) | _bit(State.Recovering), State.Decommissioned);
    }

    /// @notice The name of `verb`'s action (its id is `keccak256(bytes(name))`, its module entry
    /// point `name(address,bytes32,bytes)`), in the order of {Verb}.
    /// @param verb The verb.
    /// @return The action name, e.g. "deliver".
    function actionName(Verb verb) internal pure returns (string memory) {
        if (verb == Verb.ScheduleInstallation) return "scheduleInstallation";
        if (verb == Verb.CancelInstallation) return "cancelInstallation";
        if (verb == Verb.Deliver) return "deliver";
        if (verb == Verb.Commission) return "commission";
        if (verb == Verb.RequestChange) return "requestChange";
        if (verb == Verb.CompleteChange) return "completeChange";
        if (verb == Verb.CompleteDeletion) return "completeDeletion";
        if (verb == Verb.RequestDisconnect) return "requestDisconnect";
        if (verb == Verb.WithdrawDisconnect) return "withdrawDisconnect";
        if (verb == Verb.CompleteDisconnect) return "completeDisconnect";
        if (verb == Verb.Recover) return "recover";
        return "decommission";
    }

    /*//////////////////////////////////////////////////////////////
                          DERIVED QUERIES
    //////////////////////////////////////////////////////////////*/

    /// @notice Whether the table has an edge `from` → `to` (under any verb).
    function canTransition(State from, State to) internal pure returns (bool) {
        for (uint256 v = 0; v <= uint256(type(Verb).max); ++v) {
            (uint256 sources, State target) = rule(Verb(v));
            if (target == to && includes(sources, from)) return true;
        }
        return false;
    }

    /// @notice Whether the state set `states` (as returned by {rule}) includes `state`.
    function includes(uint256 states, State state) internal pure returns (bool) {
        return states & _bit(state) != 0;
    }

    /// @notice Whether entering `to` requires the asset to have a bound serial.
    function requiresSerial(State to) internal pure returns (bool) {
        return to == State.Active;
    }

    /// @notice Whether entering `to` releases the asset's serial for another asset.
    function releasesSerial(State to) internal pure returns (bool) {
        return to == State.Decommissioned;
    }

    /// @notice Whether `state` is terminal: nothing about the asset changes any more.
    function isTerminal(State state) internal pure returns (bool) {
        return state == State.Decommissioned;
    }

    /*//////////////////////////////////////////////////////////////
                               PRIVATE
    //////////////////////////////////////////////////////////////*/

    function _bit(State state) private pure returns (uint256) {
        return 1 << uint256(state);
    }
}
