package io.cairn.server.http;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes the strict HTTP/1.1 request decoder: whatever the bytes and however they are cut into
 * reads, it emits only well-formed event sequences (a body exactly its declared length, nothing
 * after a refusal, only documented refusal codes), never throws, and says the same as when the
 * bytes arrive at once. Seeds are raw requests in {@code RequestDecoderFuzzTestInputs/decode/};
 * the default build replays them, {@code JAZZER_FUZZ=1 ./mvnw -Pfuzz -pl cairn-server test
 * -Dtest=RequestDecoderFuzzTest} fuzzes for real. {@link RequestDecoderProperties} adds seeded
 * generated streams to every build.
 */
class RequestDecoderFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void decode(byte[] input) {
        // Cut points derived from the input itself, so a saved input replays exactly.
        int h = java.util.Arrays.hashCode(input);
        int[] cuts = new int[Math.floorMod(h, 6)];
        for (int i = 0; i < cuts.length; i++) {
            h = h * 31 + 17;
            cuts[i] = input.length == 0 ? 0 : Math.floorMod(h, input.length);
        }
        java.util.Arrays.sort(cuts);
        DecoderCheck.checkCutIndependence(input, cuts);
    }
}
