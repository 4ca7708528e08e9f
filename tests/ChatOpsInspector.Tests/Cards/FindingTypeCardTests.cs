using System.Net;
using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.State;
using ChatOpsInspector.Teams;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Tests.Slack;
using ChatOpsInspector.Tests.Teams;

namespace ChatOpsInspector.Tests.Cards;

/// <summary>
/// Inspector's own published sample events (the user guide's EventBridge examples, Fixtures/inspector),
/// ingested by the running bot: the card of each finding type says what is vulnerable, where, how bad,
/// when and what to do — in the words a responder uses, with nothing that does not apply.
/// </summary>
public sealed class FindingTypeCardTests(SampleFindingCards cards) : IClassFixture<SampleFindingCards>
{
    [Fact]
    public void Ec2PackageCardNamesThePackageItsFixedVersionTheInstanceAndTheAccount()
    {
        var slack = cards.SlackText("CVE-2024-29069");
        Assert.Contains("snapd 2.63 → 0:2.63+22.04ubuntu0.1", slack, StringComparison.Ordinal);
        Assert.Contains("*Fix*\nFix available", slack, StringComparison.Ordinal);
        Assert.Contains("*Exploit available*\nNo", slack, StringComparison.Ordinal);
        Assert.Contains("`i-12345678901234567` · EC2 instance · sandbox (123456789012) · eu-central-1 · Open", slack, StringComparison.Ordinal);
        Assert.Contains("*Next step:* apt-get update &amp;&amp; apt-get upgrade", slack, StringComparison.Ordinal);

        var teams = cards.TeamsTexts("CVE-2024-29069");
        Assert.Contains(teams, t => t.Contains("0:2.63+22.04ubuntu0.1", StringComparison.Ordinal));
        Assert.Contains(teams, t => t == "i-12345678901234567");
        Assert.Contains(teams, t => t == "EC2 instance · sandbox (123456789012) · eu-central-1 · Open");
        AssertNoRawEnums(slack, teams);
    }

    [Fact]
    public void EcrCardNamesRepositoryTagAndShortDigestNotTheArn()
    {
        var slack = cards.SlackText("CVE-2024-6119");
        Assert.Contains("*inspector2:ubuntu_latest @sha256:84f507df33c6*", slack, StringComparison.Ordinal);
        Assert.Contains("ECR image", slack, StringComparison.Ordinal);
        Assert.Contains("libssl3t64 3.0.13 → 0:3.0.13-0ubuntu3.4", slack, StringComparison.Ordinal);
        Assert.Contains("openssl 3.0.13 → 0:3.0.13-0ubuntu3.4", slack, StringComparison.Ordinal);
        // The sample has no inspectorScore and no CVSS: those fields are left out, never "n/a".
        Assert.DoesNotContain("Inspector score", slack, StringComparison.Ordinal);
        Assert.DoesNotContain("*CVSS*", slack, StringComparison.Ordinal);
        Assert.Contains(cards.TeamsTexts("CVE-2024-6119"), t => t == "inspector2:ubuntu_latest @sha256:84f507df33c6");
        AssertNoRawEnums(slack, cards.TeamsTexts("CVE-2024-6119"));
    }

    [Fact]
    public void LambdaPackageCardNamesFunctionAndRuntime()
    {
        var slack = cards.SlackText("CVE-2023-30861");
        Assert.Contains("*VulnerableFunction (Python 3.11)*", slack, StringComparison.Ordinal);
        Assert.Contains("Lambda function", slack, StringComparison.Ordinal);
        Assert.Contains("flask 2.0.0 → 2.3.2", slack, StringComparison.Ordinal);
        Assert.Contains("*Exploit available*\n:warning: Yes", slack, StringComparison.Ordinal);
        Assert.Contains(cards.TeamsTexts("CVE-2023-30861"), t => t == "VulnerableFunction (Python 3.11)");
    }

    [Fact]
    public void CodeCardShowsFileAndLineDetectorCweLinkAndTheWholeRemediationLink()
    {
        var slack = cards.SlackText(SampleFindingCards.CodeGroupKey);
        Assert.Contains("*Code* `lambda_function.py:6`", slack, StringComparison.Ordinal);
        Assert.Contains("*Detector* Hardcoded credentials", slack, StringComparison.Ordinal);
        Assert.Contains("<https://cwe.mitre.org/data/definitions/798.html|CWE-798>", slack, StringComparison.Ordinal);
        Assert.Contains("https://boto3.amazonaws.com/v1/documentation/api/latest/guide/credentials.html", slack, StringComparison.Ordinal);
        Assert.DoesNotContain("](https://", slack, StringComparison.Ordinal);
        // Package-only facts do not apply to code: no fix/exploit fields, no package list.
        Assert.DoesNotContain("*Fix*", slack, StringComparison.Ordinal);
        Assert.DoesNotContain("Exploit available", slack, StringComparison.Ordinal);
        Assert.DoesNotContain("python/hardcoded-credentials@v1.0", cards.SlackHeader(SampleFindingCards.CodeGroupKey), StringComparison.Ordinal);

        var teams = cards.TeamsCard(SampleFindingCards.CodeGroupKey);
        var texts = AlertCardRendererTests.AllText(teams).ToArray();
        Assert.Contains(texts, t => t == "lambda_function.py:6");
        Assert.Contains(OpenUrls(teams), u => u == "https://cwe.mitre.org/data/definitions/798.html");
        Assert.Contains(OpenUrls(teams), u => u == "https://boto3.amazonaws.com/v1/documentation/api/latest/guide/credentials.html");
        AssertNoRawEnums(slack, texts);
    }

    [Fact]
    public void NetworkCardShowsPortPathAndTheSecurityGroupToChangeNotTheInternalId()
    {
        var slack = cards.SlackText(SampleFindingCards.NetworkGroupKey);
        Assert.Contains("*Open* TCP port 22", slack, StringComparison.Ordinal);
        Assert.Contains("Internet gateway `igw-261bab4d` → Network ACL `acl-171b527d` → Security group `sg-0d34debf87410f2d9` → Network interface `eni-094ad651219472857` → Instance `i-12345678901234567`",
            slack, StringComparison.Ordinal);
        Assert.Contains("*Change* security group `sg-0d34debf87410f2d9` or network ACL `acl-171b527d`", slack, StringComparison.Ordinal);
        Assert.DoesNotContain("NETWORK-TCP", slack, StringComparison.Ordinal);
        Assert.Contains("Network exposure", cards.SlackHeader(SampleFindingCards.NetworkGroupKey), StringComparison.Ordinal);
        // Patching cannot close a port, and Inspector gives no fix/exploit/EPSS for network findings.
        Assert.DoesNotContain("*Fix*", slack, StringComparison.Ordinal);
        Assert.DoesNotContain("EPSS", slack, StringComparison.Ordinal);

        var teams = AlertCardRendererTests.AllText(cards.TeamsCard(SampleFindingCards.NetworkGroupKey)).ToArray();
        Assert.DoesNotContain(teams, t => t.Contains("NETWORK-TCP", StringComparison.Ordinal));
        Assert.Contains(teams, t => t.Contains("security group sg-0d34debf87410f2d9", StringComparison.Ordinal));
        AssertNoRawEnums(slack, teams);
    }

    [Fact]
    public void EveryTimeOnTheSlackCardIsADateTokenEachReaderSeesInTheirOwnZone()
    {
        var slack = cards.SlackText("CVE-2023-30861");
        // firstObservedAt "Wed Sep 04 16:50:37.627 UTC 2024" = 1725468637; Slack's <!date^…> format (docs: formatting text, dates).
        Assert.Contains("<!date^1725468637^{date_short_pretty} {time}|2024-09-04 16:50 UTC>", slack, StringComparison.Ordinal);
        Assert.DoesNotContain(" ago", slack, StringComparison.Ordinal);
    }

    private static void AssertNoRawEnums(string slack, IEnumerable<string> teams)
    {
        Assert.DoesNotMatch(@"\bn/a\b", slack);
        Assert.DoesNotContain(teams, t => System.Text.RegularExpressions.Regex.IsMatch(t, @"\bn/a\b"));
        foreach (var raw in new[] { "AWS_EC2_INSTANCE", "AWS_ECR_CONTAINER_IMAGE", "AWS_LAMBDA_FUNCTION", "ACTIVE", "PYTHON_3_11", "AWS::EC2::" })
        {
            Assert.False(slack.Contains(raw, StringComparison.Ordinal), $"{raw} on the Slack card: {slack}");
            var shown = teams.FirstOrDefault(t => t.Contains(raw, StringComparison.Ordinal));
            Assert.True(shown is null, $"{raw} on the Teams card: {shown}");
        }
    }

    private static IEnumerable<string> OpenUrls(JsonNode? node) => node switch
    {
        JsonObject o when o["type"]?.GetValue<string>() == "Action.OpenUrl" => [o["url"]!.GetValue<string>()],
        JsonObject o => o.SelectMany(p => OpenUrls(p.Value)),
        JsonArray a => a.SelectMany(OpenUrls),
        _ => [],
    };
}

/// <summary>The bot with the five official samples ingested: their Slack cards as posted and their groups as stored.</summary>
public sealed class SampleFindingCards : IAsyncLifetime
{
    public const string CodeGroupKey = "python/hardcoded-credentials@v1.0";
    public const string NetworkGroupKey = "NETWORK-TCP-22-22";

    private static readonly string[] Samples =
    [
        "finding-ec2-package-vulnerability.json",
        "finding-ecr-package-vulnerability.json",
        "finding-lambda-package-vulnerability.json",
        "finding-lambda-code-vulnerability.json",
        "finding-ec2-network-reachability.json",
    ];

    private readonly RedisServer _redis = new();
    private SlackFake _slack = null!;
    private TestApp _bot = null!;
    private readonly Dictionary<string, AlertGroup> _groups = new(StringComparer.Ordinal);

    public async Task InitializeAsync()
    {
        await _redis.InitializeAsync();
        _slack = await SlackFake.StartAsync();
        var settings = SlackApp.Settings(_slack);
        settings["Accounts:123456789012:Name"] = "sandbox";
        // The samples are MEDIUM to CRITICAL; every one of them gets a card here.
        settings["Alerting:MinSeverity"] = "LOW";
        _bot = new TestApp(TestApp.WithRedis(_redis, settings));
        _bot.Client();
        foreach (var sample in Samples)
        {
            // The user guide's EC2 package sample is CLOSED; the card of an open finding is what this shows.
            var body = Fixtures.Read("inspector", sample)
                .Replace("{{FINDING_ID}}", Guid.NewGuid().ToString("n"), StringComparison.Ordinal)
                .Replace("\"status\": \"CLOSED\"", "\"status\": \"ACTIVE\"", StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.Accepted, (await _bot.PostEventsAsync(body)).StatusCode);
        }
        var store = _bot.Service<IAlertStore>();
        foreach (var key in new[] { "CVE-2024-29069", "CVE-2024-6119", "CVE-2023-30861", CodeGroupKey, NetworkGroupKey })
        {
            await TestApp.Eventually(() => Task.FromResult(Post(key) is not null), "card for " + key);
            _groups[key] = (await store.GetGroupAsync(GroupIds.For("security", key), CancellationToken.None))!;
        }
    }

    private JsonObject? Post(string key)
    {
        var groupId = GroupIds.For("security", key);
        return _slack.Calls("chat.postMessage").FirstOrDefault(c => c["thread_ts"] is null && c.ToJsonString().Contains(groupId, StringComparison.Ordinal));
    }

    public string SlackText(string key) => string.Join("\n", Texts(Post(key)!["blocks"]!));

    public string SlackHeader(string key) => Post(key)!["blocks"]![0]!["text"]!["text"]!.GetValue<string>();

    public JsonObject TeamsCard(string key)
    {
        var view = AlertCardBuilder.Build(_groups[key], DateTimeOffset.UtcNow);
        return AlertCardRenderer.Render(view, AlertCardRendererTests.Everything(view));
    }

    public string[] TeamsTexts(string key) => AlertCardRendererTests.AllText(TeamsCard(key)).ToArray();

    private static IEnumerable<string> Texts(JsonNode node) => node switch
    {
        JsonObject o => o.SelectMany(p => p.Key == "text" && p.Value is JsonValue v ? [v.GetValue<string>()] : p.Value is null ? [] : Texts(p.Value)),
        JsonArray a => a.SelectMany(n => n is null ? [] : Texts(n)),
        _ => [],
    };

    public async Task DisposeAsync()
    {
        await _bot.DisposeAsync();
        await _slack.DisposeAsync();
        await _redis.DisposeAsync();
    }
}
