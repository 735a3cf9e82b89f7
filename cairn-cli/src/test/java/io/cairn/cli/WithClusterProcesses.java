package io.cairn.cli;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the real-process cluster tests share: a temporary directory for the nodes' data, and the
 * cluster a test starts there ({@link ClusterProcesses}), stopped after each test however it ended.
 */
abstract class WithClusterProcesses {
    @TempDir
    Path tmp;

    /** The cluster the test started, if any. */
    ClusterProcesses cluster;

    @AfterEach
    void stopCluster() throws InterruptedException {
        if (cluster != null) {
            cluster.close();
        }
    }
}
