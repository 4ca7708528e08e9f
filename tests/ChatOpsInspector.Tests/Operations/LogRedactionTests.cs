using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Tests.Slack;
using StackExchange.Redis;

namespace ChatOpsInspector.Tests.Operations;

/// <summary>
/// The bot as an operator might start it: its own process, from a directory without the shipped
/// appsettings.json (so none of its log filters apply), every category at Debug. Driven through a
/// Slack button and a slash command (each with a response_url) and a Redis outage, its whole output
/// holds neither the Redis password of a <c>redis://:password@host</c> setting, nor a response_url,
/// nor any configured key or token.
/// </summary>
public sealed class LogRedactionTests : IAsyncLifetime
{
    private const string RedisPassword = "r3dis-Pa55word-9f1c";
    private const string SigningSecret = "5ec2e7-signing-secret-0c3b9a";
    private const string BotToken = "xoxb-1111-2222-loggedtokenvalue";
    private const string IngestKey = "ingest-key-never-logged-4d2a";
    private const string AuditKey = "audit-key-never-logged-77b1";

    private readonly RedisServer _redis = new();
    private readonly ConcurrentQueue<string> _output = new();
    private SlackFake _slack = null!;
    private Process? _bot;

    public async Task InitializeAsync()
    {
        await _redis.InitializeAsync();
        using (var admin = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{_redis.Port},allowAdmin=true"))
        {
            await admin.GetDatabase().ExecuteAsync("CONFIG", "SET", "requirepass", RedisPassword);
        }
        _slack = await SlackFake.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_bot is { HasExited: false })
        {
            _bot.Kill(entireProcessTree: true);
            await _bot.WaitForExitAsync();
        }
        _bot?.Dispose();
        await _slack.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task NoSecretOrResponseUrlReachesTheLogsAtDebugWithoutAppSettings()
    {
        var port = RedisServer.FreePort();
        var bot = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        StartBot(port);
        await TestApp.Eventually(async () =>
        {
            try
            {
                return (await bot.GetAsync("readyz")).StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "the bot answers /readyz with Redis reached through the password in the URI");

        // A finding, so that the button below acts on a real group.
        var ingest = new HttpRequestMessage(HttpMethod.Post, "api/inspector/events")
        {
            Content = new StringContent(FindingEvents.Ec2("logs-1", cve: "CVE-2099-31337").ToJsonString(), Encoding.UTF8, "application/json"),
        };
        ingest.Headers.Add("X-Api-Key", IngestKey);
        Assert.Equal(HttpStatusCode.Accepted, (await bot.SendAsync(ingest)).StatusCode);
        var groupId = GroupIds.For("security", "CVE-2099-31337");

        // A button press answered through its response_url, and a slash command carrying one.
        var clickUrl = _slack.NewResponseUrl();
        Assert.Equal(HttpStatusCode.OK, (await bot.SendAsync(Click(groupId, clickUrl))).StatusCode);
        await _slack.ResponseAsync(clickUrl, "the acknowledgement posted to the response_url");
        var commandUrl = _slack.NewResponseUrl();
        Assert.Equal(HttpStatusCode.OK, (await bot.SendAsync(Command("security", commandUrl))).StatusCode);

        // Redis goes away: connection errors, a 503 for ingest and for /readyz.
        _redis.Stop();
        var during = new HttpRequestMessage(HttpMethod.Post, "api/inspector/events")
        {
            Content = new StringContent(FindingEvents.Ec2("logs-2").ToJsonString(), Encoding.UTF8, "application/json"),
        };
        during.Headers.Add("X-Api-Key", IngestKey);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await bot.SendAsync(during)).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await bot.GetAsync("readyz")).StatusCode);
        await TestApp.Eventually(() => Task.FromResult(Log.Contains("RedisConnectionException", StringComparison.Ordinal)), "a Redis connection error logged");

        _bot!.Kill(entireProcessTree: true);
        await _bot.WaitForExitAsync();
        var log = Log;

        // The conditions held: Debug lines were written, the bot talked to Slack and to Redis.
        Assert.Contains("dbug: ", log, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:" + _redis.Port, log, StringComparison.Ordinal);
        foreach (var secret in new[]
        {
            RedisPassword, SigningSecret, BotToken, IngestKey, AuditKey,
            clickUrl, new Uri(clickUrl).AbsolutePath, commandUrl, new Uri(commandUrl).AbsolutePath,
        })
        {
            Assert.False(log.Contains(secret, StringComparison.Ordinal), $"the log holds '{secret}'");
        }
    }

    private string Log => string.Join('\n', _output);

    private void StartBot(int port)
    {
        var workingDirectory = Directory.CreateTempSubdirectory("coi-logs-");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { typeof(Program).Assembly.Location },
            WorkingDirectory = workingDirectory.FullName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var env = start.Environment;
        env["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        env["ASPNETCORE_ENVIRONMENT"] = "Production";
        env["Logging__LogLevel__Default"] = "Debug";
        env["Logging__Console__FormatterName"] = "simple";
        env["State__Redis"] = $"redis://:{RedisPassword}@127.0.0.1:{_redis.Port}";
        env["Ingest__ApiKey"] = IngestKey;
        env["Audit__ApiKey"] = AuditKey;
        env["Slack__BotToken"] = BotToken;
        env["Slack__SigningSecret"] = SigningSecret;
        env["Slack__ApiBaseUrl"] = _slack.BaseUrl;
        env["Slack__ResponseUrlHosts__0"] = "127.0.0.1";
        env["Slack__WorkPollInterval"] = "00:00:00.050";
        env["Slack__TeamIds__0"] = "T0001";
        env["Routing__Default__Owner"] = "security";
        env["Routing__Default__SlackChannel"] = SlackApp.DefaultChannel;
        env["Aws__Region"] = "eu-central-1";
        env["Aws__Inspector2__ServiceUrl"] = "http://127.0.0.1:9/";
        env["Aws__Ssm__ServiceUrl"] = "http://127.0.0.1:9/";
        _bot = Process.Start(start)!;
        _bot.OutputDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); } };
        _bot.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); } };
        _bot.BeginOutputReadLine();
        _bot.BeginErrorReadLine();
    }

    private static HttpRequestMessage Click(string groupId, string responseUrl)
    {
        var payload = JsonNode.Parse(Fixtures.Read("slack", "block-actions-message.json"))!.AsObject();
        payload["user"] = new JsonObject { ["id"] = "UALICE0001", ["username"] = "alice", ["team_id"] = "T0001" };
        payload["team"] = new JsonObject { ["id"] = "T0001", ["domain"] = "example" };
        payload["response_url"] = responseUrl;
        payload["trigger_id"] = Guid.NewGuid().ToString("n");
        payload["channel"] = new JsonObject { ["id"] = SlackApp.DefaultChannel, ["name"] = "security" };
        payload["container"]!["channel_id"] = SlackApp.DefaultChannel;
        payload["actions"]![0]!["action_id"] = $"ack:{groupId}";
        payload["actions"]![0]!["value"] = groupId;
        return SlackSigner.Signed("api/slack/interactions", SlackSigner.Form(("payload", payload.ToJsonString())), "application/x-www-form-urlencoded", SigningSecret);
    }

    private static HttpRequestMessage Command(string text, string responseUrl) =>
        SlackSigner.Signed("api/slack/commands", SlackSigner.Form(
            ("token", "gIkuvaNzQIHg97ATvDxqgjtO"), ("team_id", "T0001"), ("team_domain", "example"),
            ("channel_id", SlackApp.DefaultChannel), ("channel_name", "security"),
            ("user_id", "UALICE0001"), ("user_name", "alice"), ("command", "/vulns"), ("text", text),
            ("response_url", responseUrl), ("trigger_id", Guid.NewGuid().ToString("n")), ("api_app_id", "A123456")),
            "application/x-www-form-urlencoded", SigningSecret);
}
