using System.Text;
using System.Text.Json.Nodes;
using ChatOpsInspector.Slack;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace ChatOpsInspector.Tests.Slack;

public class SlackSignatureTests
{
    private static readonly JsonObject Vector = JsonNode.Parse(Fixtures.Read("slack", "signing-vector.json"))!.AsObject();
    private static readonly byte[] Body = Fixtures.ReadBytes("slack", "signing-vector.body.txt");
    private static readonly string Secret = Vector["signing_secret"]!.GetValue<string>();
    private static readonly string Timestamp = Vector["headers"]!["X-Slack-Request-Timestamp"]!.GetValue<string>();
    private static readonly string Signature = Vector["expected_signature"]!.GetValue<string>();
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    private static FakeTimeProvider ClockAt(long unixSeconds) => new(DateTimeOffset.FromUnixTimeSeconds(unixSeconds));

    private static bool Verify(FakeTimeProvider clock, byte[]? body = null, string? signature = null, string? timestamp = null, string? secret = null) =>
        SlackSignature.IsValid(secret ?? Secret, timestamp ?? Timestamp, signature ?? Signature, body ?? Body, clock.GetUtcNow(), Window);

    [Fact]
    public void DocumentedExampleComputesTheDocumentedSignature()
    {
        Assert.Equal(362, Body.Length);
        Assert.Equal(Signature, Encoding.ASCII.GetString(SlackSignature.Compute(Secret, Timestamp, Body)));
    }

    [Fact]
    public void DocumentedExampleVerifiesWhenTheClockIsNearItsTimestamp()
    {
        Assert.True(Verify(ClockAt(1531420618)));
        Assert.True(Verify(ClockAt(1531420618 + 299)));
    }

    [Fact]
    public void TamperedBodyIsRefused()
    {
        var tampered = Body.Concat(Encoding.UTF8.GetBytes(Vector["sdk_test_expectations"]!["invalid_when_body_has_suffix"]!.GetValue<string>())).ToArray();
        Assert.False(Verify(ClockAt(1531420618), body: tampered));
    }

    [Fact]
    public void TamperedSignatureOrWrongSecretIsRefused()
    {
        var clock = ClockAt(1531420618);
        Assert.False(Verify(clock, signature: Signature[..^1] + (Signature[^1] == '0' ? '1' : '0')));
        Assert.False(Verify(clock, signature: Signature.Replace("v0=", "v1=", StringComparison.Ordinal)));
        Assert.False(Verify(clock, signature: ""));
        Assert.False(Verify(clock, secret: "another-secret"));
        Assert.False(Verify(clock, secret: ""));
    }

    [Fact]
    public void ExpiredSlackTimestampIsRejected()
    {
        var clock = ClockAt(1531420618);
        clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        Assert.False(Verify(clock));
    }

    [Fact]
    public void TimestampFromTheFutureBeyondTheWindowIsRejected() =>
        Assert.False(Verify(ClockAt(1531420618 - 301)));

    [Fact]
    public void ReplayedExampleIsRefusedWithTheRealClock() =>
        Assert.False(SlackSignature.IsValid(Secret, Timestamp, Signature, Body, TimeProvider.System.GetUtcNow(), Window));

    [Fact]
    public void MalformedTimestampIsRefused()
    {
        var clock = ClockAt(1531420618);
        Assert.False(Verify(clock, timestamp: "not-a-number"));
        Assert.False(Verify(clock, timestamp: "-1531420618"));
        Assert.False(Verify(clock, timestamp: "99999999999999999999"));
    }
}
