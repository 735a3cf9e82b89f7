package io.cairn.server.metadata;

import io.cairn.membership.Member;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;

/** How Cairn members are named in the metadata group: one fixed group, peer {@code n<id>} at the member's metadata address. */
final class RaftPeers {
    /** The same on every node and every start, so a restarted member finds its group's storage. */
    static final RaftGroupId GROUP_ID = RaftGroupId.valueOf(UUID.nameUUIDFromBytes("cairn-metadata".getBytes(StandardCharsets.UTF_8)));
    private static final String PREFIX = "n";

    private RaftPeers() {}

    static RaftPeerId peerId(int memberId) {
        return RaftPeerId.valueOf(PREFIX + memberId);
    }

    /** The member id a peer id names, or -1 for a peer this code never adds. */
    static int memberId(RaftPeerId peer) {
        String s = peer.toString();
        if (!s.startsWith(PREFIX) || s.length() == PREFIX.length() || s.length() > PREFIX.length() + 5) {
            return -1;
        }
        for (int i = PREFIX.length(); i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return -1;
            }
        }
        return Integer.parseInt(s.substring(PREFIX.length()));
    }

    static RaftPeer peer(Member member, RaftPeerRole role) {
        return RaftPeer.newBuilder().setId(peerId(member.id())).setAddress(member.metadataAddress()).setStartupRole(role).build();
    }

    static List<RaftPeer> peers(Collection<Member> members, RaftPeerRole role) {
        return members.stream().map(m -> peer(m, role)).toList();
    }

    /** The group of {@code voters}; empty for a member that waits to be added by the leader. */
    static RaftGroup group(Collection<Member> voters) {
        return RaftGroup.valueOf(GROUP_ID, peers(voters, RaftPeerRole.FOLLOWER));
    }
}
