using System.Text;
using ChatOpsInspector.Bench.Harness;

namespace ChatOpsInspector.Bench.Scenarios;

/// <summary>One bad request and the status the contract promises for it.</summary>
internal sealed record HostileCase(string Name, int Expected, byte[] Body, string? ApiKey = Rig.ApiKey, string ContentType = "application/json", bool Chunked = false, string Method = "POST");

/// <summary>
/// Bad inputs for POST /api/inspector/events. None of them may store anything or get a 500. Each
/// case's finding ids start with "hostile-" so the harness can prove nothing of them was stored.
/// </summary>
internal static class HostileCorpus
{
    private static byte[] U(string s) => Encoding.UTF8.GetBytes(s);

    private static string Valid(string id, string? title = null) => Events.Json(new FindingSpec($"hostile-{id}", "CVE-2026-66666", "i-00000000000000bad", "app19", Title: title));

    private static string Mutate(string id, string from, string to)
    {
        var json = Valid(id);
        if (!json.Contains(from, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"corpus case {id}: '{from}' is not in the template");
        }
        return json.Replace(from, to, StringComparison.Ordinal);
    }

    private static string UpdatedAt(string id, string at)
    {
        var json = Valid(id);
        var start = json.IndexOf("\"updatedAt\":\"", StringComparison.Ordinal) + "\"updatedAt\":\"".Length;
        var end = json.IndexOf('"', start);
        return json[..start] + at + json[end..];
    }

    public static IReadOnlyList<HostileCase> Ingest()
    {
        var tenMiB = new byte[10 * 1024 * 1024];
        Array.Fill(tenMiB, (byte)' ');
        U("[").CopyTo(tenMiB, 0);
        return
        [
            new("no API key", 401, U(Valid("nokey")), ApiKey: null),
            new("wrong API key", 401, U(Valid("wrongkey")), ApiKey: "bench-ingest-key-3c59dc048e8850243be8079a5c74d07X"),
            new("API key prefix only", 401, U(Valid("shortkey")), ApiKey: "bench"),
            new("empty body", 400, []),
            new("truncated JSON", 400, U(Valid("trunc")[..1500])),
            new("not JSON at all", 400, U("hello <script>alert(1)</script>")),
            new("JSON string", 400, U("\"Inspector2 Finding\"")),
            new("JSON null", 400, U("null")),
            new("empty array", 400, U("[]")),
            new("1,001 events in one request", 400, U("[" + string.Join(',', Enumerable.Repeat("{}", 1001)) + "]")),
            new("one bad event in a batch of good ones", 400, U("[" + Valid("batch-good-1") + "," + Mutate("batch-bad", "\"severity\":\"CRITICAL\"", "\"severity\":7") + "," + Valid("batch-good-2") + "]")),
            new("severity is a number", 400, U(Mutate("sevnum", "\"severity\":\"CRITICAL\"", "\"severity\":9"))),
            new("unknown severity", 400, U(Mutate("sevword", "\"severity\":\"CRITICAL\"", "\"severity\":\"APOCALYPTIC\""))),
            new("findingArn is an array", 400, U(Valid("arnarr").Replace("\"findingArn\":\"", "\"findingArn\":[\"", StringComparison.Ordinal).Replace(Events.Arn("hostile-arnarr") + "\"", Events.Arn("hostile-arnarr") + "\"]", StringComparison.Ordinal))),
            new("updatedAt is not a time", 400, U(Mutate("badtime", "\"updatedAt\":\"", "\"updatedAt\":\"yesterday-ish "))),
            new("inspectorScore is a word", 400, U(Mutate("scorestr", "\"inspectorScore\":9.8", "\"inspectorScore\":\"high\""))),
            new("inspectorScore overflows a double", 400, U(Mutate("scorebig", "\"inspectorScore\":9.8", "\"inspectorScore\":1e400"))),
            new("detail missing", 400, U("{\"version\":\"0\",\"id\":\"x\",\"detail-type\":\"Inspector2 Finding\",\"source\":\"aws.inspector2\"}")),
            // A complete AWS event of another source is accepted and ignored: a 4xx would dead-letter it.
            new("source is not aws.inspector2", 202, U(Mutate("source", "\"source\":\"aws.inspector2\"", "\"source\":\"evil.corp\""))),
            new("deep nesting (10,000 arrays)", 400, U(new string('[', 10_000) + new string(']', 10_000))),
            new("deep nesting inside detail", 400, U(Mutate("deep", "\"remediation\":{", "\"remediation\":" + new string('[', 200) + new string(']', 200) + ",\"x\":{"))),
            new("invalid UTF-8 bytes between tokens", 400, [.. U("{\"version\":\"0\","), 0xC3, 0x28, 0xFF, 0xFE, .. U(Valid("utf8")[1..])]),
            new("lone surrogate escape in findingArn", 400, U(Mutate("surrogate", Events.Arn("hostile-surrogate"), Events.Arn("hostile-surrogate") + "\\ud800"))),
            new("lone low surrogate in title", 400, U(Mutate("lowsur", "\"title\":\"", "\"title\":\"\\udc00"))),
            new("NUL and control characters in findingArn", 400, U(Mutate("nul", Events.Arn("hostile-nul"), Events.Arn("hostile-nul") + "\\u0000\\u001b[31m"))),
            // Values a forged or broken event could carry; each is refused before anything is written.
            new("updatedAt in year 9999", 400, U(UpdatedAt("y9999", "9999-12-31T23:59:59Z"))),
            new("batch: good event, then updatedAt in year 9999", 400, U("[" + Valid("batch9999-good") + "," + UpdatedAt("batch9999-bad", "9999-12-31T23:59:59Z") + "]")),
            new("updatedAt in year 1", 400, U(UpdatedAt("y1", "0001-01-01T00:00:00Z"))),
            new("updatedAt two days ahead", 400, U(UpdatedAt("ahead", DateTimeOffset.UtcNow.AddDays(2).ToString("O")))),
            new("account id is a formula", 400, U(Mutate("acct", "\"awsAccountId\":\"123456789012\"", "\"awsAccountId\":\"=1+1\""))),
            new("findingArn is just arn:", 400, U(Mutate("arnbare", Events.Arn("hostile-arnbare"), "arn:"))),
            new("inspectorScore 1e308", 400, U(Mutate("score308", "\"inspectorScore\":9.8", "\"inspectorScore\":1e308"))),
            new("inspectorScore -1e308", 400, U(Mutate("scoreneg", "\"inspectorScore\":9.8", "\"inspectorScore\":-1e308"))),
            new("EPSS above 1", 400, U(Mutate("epss", "\"epss\":{\"score\":0.87}", "\"epss\":{\"score\":1.5}"))),
            new("duplicate severity key", 400, U(Mutate("dupkey", "\"severity\":\"CRITICAL\"", "\"severity\":\"CRITICAL\",\"severity\":\"LOW\""))),
            new("truncated EC2 instance id", 400, U(Mutate("inst", "\"id\":\"i-00000000000000bad\"", "\"id\":\"i-0abc\""))),
            new("body over the limit (10 MiB, Content-Length)", 413, tenMiB),
            new("body over the limit (10 MiB, chunked)", 413, tenMiB, Chunked: true),
            new("GET instead of POST", 405, [], Method: "GET"),
        ];
    }

    /// <summary>Valid findings whose text tries to ping, link or format in chat: stored, but escaped on the card.</summary>
    public static IReadOnlyList<(string Name, byte[] Body)> Injections() =>
    [
        ("mrkdwn mass mention in title", U(Valid("inject-channel", title: "CVE-2026-66666 <!channel> <!here> <@U0BOSS> *urgent*"))),
        ("forged link in title", U(Valid("inject-link", title: "CVE-2026-66666 <https://evil.example/login|Click to patch> [fix](javascript:alert(1))"))),
        ("invalid UTF-8 inside the description", [.. U(Valid("inject-utf8")[..200]), 0xC3, 0x28, 0xFF, .. U(Valid("inject-utf8")[200..])]),
        ("markdown and zero-width characters", U(Valid("inject-zw", title: "CVE-2026-66666 ‮gnp.exe‬ \u200b\u200d\ud83d\udca3 ```code``` ~strike~"))),
    ];

    /// <summary>Strings that must never appear unescaped in any card text sent to Slack.</summary>
    public static readonly string[] Forbidden = ["<!channel>", "<!here>", "<@U0BOSS>", "<https://evil.example/login|Click to patch>"];
}
