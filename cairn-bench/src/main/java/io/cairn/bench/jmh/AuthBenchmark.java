package io.cairn.bench.jmh;

import io.cairn.auth.Access;
import io.cairn.auth.Credential;
import io.cairn.auth.Need;
import io.cairn.auth.Right;
import io.cairn.auth.Role;
import io.cairn.auth.Token;
import io.cairn.auth.TokenCache;
import io.cairn.auth.TokenState;
import io.cairn.auth.Verdict;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH benchmarks of what authentication adds to every request: parsing the {@code Authorization}
 * header, finding the token in the cache, and the decision (a SHA-256 of the secret, a
 * constant-time compare, the role check).
 *
 * <p>Run: {@code java -jar cairn-bench/target/cairn-bench-jmh.jar AuthBenchmark} (see docs/benchmarks.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class AuthBenchmark {
    private String header;
    private TokenCache cache;
    private final Need need = Need.data("default", Right.WRITE);

    @Setup
    public void setup() {
        byte[] random = new byte[Credential.ID_BYTES + Credential.SECRET_BYTES];
        new SplittableRandom(7).nextBytes(random);
        Credential c = Credential.fromRandom(random);
        header = "Bearer " + c.text();
        Token t = new Token(c.id(), "bench", c.secretHash(), List.of(Role.parse("write:default")), 0, Token.NEVER, "bench");
        cache = new TokenCache(100_000, Long.MAX_VALUE / 4, 1_000);
        cache.put(c.id(), new TokenState(t, null, null), 0);
    }

    /** The header parsed into a credential. */
    @Benchmark
    public Credential parse() {
        return Credential.fromAuthorization(header);
    }

    /** Everything a request with a cached stored token costs the node's authentication. */
    @Benchmark
    public Verdict cachedToken() {
        Credential c = Credential.fromAuthorization(header);
        TokenState s = cache.fresh(c.id(), 1);
        return Access.decide(c, s, 1_000, need);
    }
}
