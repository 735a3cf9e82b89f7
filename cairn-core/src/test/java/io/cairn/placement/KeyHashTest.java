package io.cairn.placement;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * XXH64 against reference values.
 *
 * <p>Seed-0 values were computed with the reference implementation's CLI ({@code xxhsum -H1},
 * xxHash 0.8.1). Inputs named {@code seq(n)} are {@code n} bytes with {@code b[i] = i * 7 + 1}
 * (mod 256); the lengths cover each code path: the 1-byte, 4-byte and 8-byte tails, the 32-byte
 * stripe loop, and their boundaries. Seeded values come from an independent implementation that
 * reproduces every xxhsum value here.
 */
class KeyHashTest {

    @ParameterizedTest(name = "\"{0}\"")
    @CsvSource(delimiter = '|', value = {
        "''                                           | ef46db3751d8e999",
        "a                                            | d24ec4f1a98c6e5b",
        "abc                                          | 44bc2cf5ad770999",
        "message digest                               | 066ed728fceeb3be",
        "abcdefghijklmnopqrstuvwxyz                   | cfe1f278fa89835c",
        "The quick brown fox jumps over the lazy dog  | 0b242d361fda71bc",
    })
    void asciiReferenceVectors(String text, String expectedHex) {
        byte[] input = text.getBytes(StandardCharsets.US_ASCII);
        assertThat(hex(KeyHash.xxh64(input))).isEqualTo(expectedHex);
    }

    @ParameterizedTest(name = "seq({0})")
    @CsvSource(delimiter = '|', value = {
        "0    | ef46db3751d8e999",
        "1    | 8a4127811b21e730",
        "2    | 2b319ec16221ca2b",
        "3    | b6e6c910c2fd373a",
        "4    | 22eda2cf6af4c124",
        "5    | 1da48e4b4cafab76",
        "7    | 34084d91a233a751",
        "8    | c6f1803a5e0b3222",
        "9    | 9e8adf2a0ccdb6da",
        "11   | a295d00465199f0a",
        "12   | 9178b724dce384c0",
        "15   | 514c6f58d37ce6f1",
        "16   | afe8f989a0735a8e",
        "17   | b191cd44210ea488",
        "31   | 6ab1c40e29f50073",
        "32   | 5a0756fbe9ecd3d1",
        "33   | dc50cdc37bb9c183",
        "35   | 64593b59a48d806f",
        "36   | 31e83081f3301bb8",
        "39   | e6b392c5985d77ab",
        "40   | 7899cacb89a78430",
        "63   | 10dd94885c71894a",
        "64   | 90083da9cdb9d795",
        "65   | 38824dea10bf4e5d",
        "100  | d248bfc5208b0b16",
        "1000 | 6be03acbf959c413",
    })
    void lengthReferenceVectors(int length, String expectedHex) {
        assertThat(hex(KeyHash.xxh64(seq(length)))).isEqualTo(expectedHex);
    }

    @ParameterizedTest(name = "seed {0}, seq({1})")
    @CsvSource(delimiter = '|', value = {
        "1                    | 0   | d5afba1336a3be4b",
        "1                    | 3   | 9a065ab0264d7748",
        "1                    | 4   | e5adca577536f94f",
        "1                    | 8   | 51912278ff8a837c",
        "1                    | 31  | 4251c73e9ad1a2c3",
        "1                    | 32  | a4339581310edcc0",
        "1                    | 33  | 5bcef87b90a7fd1d",
        "1                    | 100 | d7413414aad433f3",
        "9e3779b97f4a7c15     | 0   | c4349fc93c010000",
        "9e3779b97f4a7c15     | 33  | 199870762697ae29",
        "9e3779b97f4a7c15     | 100 | 8d818c65ab873d61",
        "ffffffffffffffff     | 0   | 298f4c84b24f5380",
        "ffffffffffffffff     | 4   | 7e3dd54627254366",
        "ffffffffffffffff     | 32  | d06af4a173ec4274",
        "ffffffffffffffff     | 100 | 9595e0dbb1d099ed",
    })
    void seededVectors(String seedHex, int length, String expectedHex) {
        long seed = Long.parseUnsignedLong(seedHex, 16);
        assertThat(hex(KeyHash.xxh64(seq(length), 0, length, seed))).isEqualTo(expectedHex);
    }

    @Test
    void hashesOnlyTheGivenSliceOfALargerArray() {
        SplittableRandom random = new SplittableRandom(3);
        for (int length : new int[] {0, 1, 4, 8, 31, 32, 33, 100}) {
            byte[] slice = seq(length);
            byte[] padded = new byte[length + 17];
            random.nextBytes(padded);
            int offset = 1 + random.nextInt(16);
            System.arraycopy(slice, 0, padded, offset, length);

            assertThat(KeyHash.xxh64(padded, offset, length, 0)).as("length %d at %d", length, offset).isEqualTo(KeyHash.xxh64(slice));
        }
    }

    @Test
    void aOneBitChangeChangesAboutHalfTheOutputBits() {
        SplittableRandom random = new SplittableRandom(11);
        long flipped = 0;
        int samples = 2_000;
        for (int i = 0; i < samples; i++) {
            byte[] key = new byte[1 + random.nextInt(48)];
            random.nextBytes(key);
            long before = KeyHash.xxh64(key);
            key[random.nextInt(key.length)] ^= (byte) (1 << random.nextInt(8));
            flipped += Long.bitCount(before ^ KeyHash.xxh64(key));
        }
        double mean = (double) flipped / samples;
        assertThat(mean).isBetween(30.0, 34.0);
    }

    static byte[] seq(int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 7 + 1);
        }
        return b;
    }

    private static String hex(long h) {
        return String.format("%016x", h);
    }
}
