package io.cairn.metadata;

import io.cairn.membership.Member;
import java.util.Objects;

/** A member as the metadata log knows it: who it is and where it is in its life in the cluster. */
public record MemberRecord(Member member, NodeState state) {
    public MemberRecord {
        Objects.requireNonNull(member, "member");
        Objects.requireNonNull(state, "state");
    }

    public int id() {
        return member.id();
    }

    MemberRecord with(NodeState next) {
        return new MemberRecord(member, next);
    }
}
