package io.cairn.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Error bodies become typed exceptions by status and stable code; unknown codes stay the base class. */
class ErrorsTest {
    private static final URI NODE = URI.create("http://127.0.0.1:7070");

    private static CairnException error(int status, String json) {
        return Errors.from(status, json.getBytes(StandardCharsets.UTF_8), NODE);
    }

    @Test
    void eachFamilyOfCodesHasItsType() {
        assertThat(error(401, "{\"code\":\"unauthenticated\",\"message\":\"no token\"}")).isExactlyInstanceOf(AuthException.class);
        assertThat(error(403, "{\"code\":\"forbidden\",\"message\":\"needs write:default\"}")).isExactlyInstanceOf(AuthException.class)
                .hasMessage("needs write:default");
        assertThat(error(400, "{\"code\":\"invalid_key\",\"message\":\"m\"}")).isExactlyInstanceOf(InvalidRequestException.class);
        assertThat(error(413, "{\"code\":\"value_too_large\",\"message\":\"m\"}")).isExactlyInstanceOf(InvalidRequestException.class);
        assertThat(error(404, "{\"code\":\"namespace_not_found\",\"message\":\"m\"}")).isExactlyInstanceOf(InvalidRequestException.class);
        assertThat(error(422, "{\"code\":\"idempotency_key_reused\",\"message\":\"m\"}")).isExactlyInstanceOf(InvalidRequestException.class);
        assertThat(error(504, "{\"code\":\"outcome_unknown\",\"message\":\"m\"}")).isExactlyInstanceOf(OutcomeUnknownException.class);
        for (String code : List.of("overloaded", "quorum_unavailable", "contention", "clock_unsafe", "not_ready", "storage_stalled")) {
            CairnException e = error(503, "{\"code\":\"" + code + "\",\"message\":\"m\"}");
            assertThat(e).as(code).isExactlyInstanceOf(UnavailableException.class);
            assertThat(e.retryable()).as(code).isTrue();
        }
    }

    @Test
    void preconditionFailedCarriesTheCurrentEtagOrNone() {
        CairnException e = error(412, "{\"code\":\"precondition_failed\",\"message\":\"m\",\"currentEtag\":\"\\\"0001-1\\\"\"}");
        assertThat(e).isExactlyInstanceOf(PreconditionFailedException.class);
        assertThat(((PreconditionFailedException) e).currentEtag()).contains("\"0001-1\"");
        CairnException absent = error(412, "{\"code\":\"precondition_failed\",\"message\":\"m\",\"currentEtag\":null}");
        assertThat(((PreconditionFailedException) absent).currentEtag()).isEmpty();
        assertThat(absent.retryable()).isFalse();
    }

    @Test
    void unknownCodesAreTheBaseClassAndKeepTheirDetails() {
        CairnException e = error(503, "{\"code\":\"brand_new_code\",\"message\":\"later\",\"required\":2,\"nested\":{\"a\":[1,true,null]}}");
        assertThat(e).isExactlyInstanceOf(CairnException.class);
        assertThat(e.code()).isEqualTo("brand_new_code");
        assertThat(e.status()).isEqualTo(503);
        assertThat(e.retryable()).isFalse();
        assertThat(e.endpoint()).contains(NODE);
        assertThat(e.details()).containsEntry("required", 2L);
        assertThat(((Map<?, ?>) e.details().get("nested")).get("a")).isEqualTo(java.util.Arrays.asList(1L, true, null));

        CairnException readTimeout = error(504, "{\"code\":\"read_timeout\",\"message\":\"m\"}");
        assertThat(readTimeout).isExactlyInstanceOf(CairnException.class);
        assertThat(readTimeout.retryable()).isTrue();
        assertThat(error(409, "{\"code\":\"idempotency_in_flight\",\"message\":\"m\"}").retryable()).isTrue();
        assertThat(error(500, "{\"code\":\"internal_error\",\"message\":\"m\"}").retryable()).isFalse();
    }

    @Test
    void aBodyThatIsNotCairnsJsonKeepsItsStatusAndAnExcerpt() {
        CairnException proxy = error(502, "<html>bad gateway</html>");
        assertThat(proxy).isExactlyInstanceOf(CairnException.class);
        assertThat(proxy.code()).isEqualTo("http_502");
        assertThat(proxy.getMessage()).contains("bad gateway");
        assertThat(error(503, "{\"message\":\"no code\"}").code()).isEqualTo("http_503");
        assertThat(error(500, "{\"code\":").code()).isEqualTo("http_500");
        assertThat(Errors.from(504, new byte[0], NODE).code()).isEqualTo("http_504");
        String deep = "{\"code\":\"x\",\"d\":" + "[".repeat(100) + "]".repeat(100) + "}";
        assertThat(error(500, deep).code()).isEqualTo("http_500");
    }
}
