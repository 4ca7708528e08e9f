using System.Net.Http.Headers;
using StackExchange.Redis;

namespace ChatOpsInspector.Bench.Harness;

/// <summary>Redis, the fake Slack and one or more bot processes, wired the way an operator would.</summary>
internal sealed class Rig : IAsyncDisposable
{
    public const string ApiKey = "bench-ingest-key-3c59dc048e8850243be8079a5c74d079";
    public const string Prefix = "coi:";

    /// <summary>The bot's key layout, so checks read the keys the bot wrote.</summary>
    public static readonly ChatOpsInspector.State.RedisKeys Keys = new(new ChatOpsInspector.State.StateOptions { KeyPrefix = Prefix });

    private readonly List<BotProcess> _bots = [];

    /// <summary>Bot settings given on the command line (<c>--set Key=Value</c>), applied to every bot last.</summary>
    public static IReadOnlyDictionary<string, string> ExtraSettings { get; set; } = new Dictionary<string, string>();

    public required RedisProcess Redis { get; init; }
    public required FakeSlack Slack { get; init; }
    public IReadOnlyList<BotProcess> Bots => _bots;
    public BotProcess Bot => _bots[0];

    public static async Task<Rig> StartAsync(bool durableRedis = false)
    {
        var redis = new RedisProcess(durableRedis);
        await redis.StartAsync();
        var slack = await FakeSlack.StartAsync();
        return new Rig { Redis = redis, Slack = slack };
    }

    /// <summary>Production defaults except where <paramref name="overrides"/> says otherwise.</summary>
    public Dictionary<string, string> Settings(Dictionary<string, string>? overrides = null)
    {
        var s = new Dictionary<string, string>
        {
            ["State:Redis"] = Redis.ConnectionString,
            ["State:KeyPrefix"] = Prefix,
            ["Ingest:ApiKey"] = ApiKey,
            ["Slack:BotToken"] = "xoxb-bench-token",
            ["Slack:SigningSecret"] = SlackSigner.Secret,
            ["Slack:TeamIds:0"] = "T0BENCH",
            ["Slack:ApiBaseUrl"] = Slack.ApiBaseUrl,
            ["Slack:ResponseUrlHosts:0"] = "127.0.0.1",
            ["Aws:Region"] = "eu-central-1",
        };
        foreach (var (k, v) in Events.RoutingSettings())
        {
            s[k] = v;
        }
        foreach (var (k, v) in overrides ?? [])
        {
            s[k] = v;
        }
        foreach (var (k, v) in ExtraSettings)
        {
            s[k] = v;
        }
        return s;
    }

    public async Task<BotProcess> StartBotAsync(Dictionary<string, string>? overrides = null, int? port = null)
    {
        var bot = new BotProcess(Settings(overrides), port);
        await bot.StartAsync();
        _bots.Add(bot);
        return bot;
    }

    public static async Task<int> PostEventAsync(HttpClient http, string baseUrl, byte[] body, string? apiKey = ApiKey)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, baseUrl + "api/inspector/events") { Content = content };
        if (apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", apiKey);
        }
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead);
        return (int)response.StatusCode;
    }

    public async Task<IDatabase> DbAsync() => await Redis.AdminAsync();

    public async Task<long> QueueLengthAsync(string queue)
    {
        var db = await DbAsync();
        if (!ChatOpsInspector.State.RedisKeys.IsPartitioned(queue))
        {
            return await db.SortedSetLengthAsync(Keys.QueueOf(queue).Due);
        }
        var lengths = await Task.WhenAll(Enumerable.Range(0, Keys.Partitions).Select(p => db.SortedSetLengthAsync(Keys.QueuePartition(queue, p).Due)));
        return lengths.Sum();
    }

    /// <summary>How many findings the store holds (one hash per finding ARN).</summary>
    public async Task<long> StoredFindingsAsync()
    {
        var server = await Redis.ServerAsync();
        long n = 0;
        await foreach (var _ in server.KeysAsync(pattern: Prefix + "{*}f:*", pageSize: 5000))
        {
            n++;
        }
        return n;
    }

    /// <summary>A finding is kept in its group's partition; the ARN alone does not say which.</summary>
    public async Task<bool> IsStoredAsync(string arn)
    {
        var db = await DbAsync();
        var found = await Task.WhenAll(Enumerable.Range(0, Keys.Partitions).Select(p => db.KeyExistsAsync(Keys.Finding(p, arn))));
        return found.Any(f => f);
    }

    /// <summary>Waits until both chat queues are empty and the fake Slack has been quiet for <paramref name="quiet"/>.</summary>
    public async Task<bool> WaitDrainedAsync(TimeSpan timeout, TimeSpan quiet)
    {
        var deadline = DateTime.UtcNow + timeout;
        var lastCalls = Slack.Calls;
        var quietSince = DateTime.UtcNow;
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            var calls = Slack.Calls;
            if (calls != lastCalls)
            {
                lastCalls = calls;
                quietSince = DateTime.UtcNow;
            }
            if (await QueueLengthAsync("groups") == 0 && await QueueLengthAsync("outbox") == 0 && DateTime.UtcNow - quietSince >= quiet)
            {
                return true;
            }
        }
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var bot in _bots)
        {
            await bot.DisposeAsync();
        }
        await Slack.DisposeAsync();
        await Redis.DisposeAsync();
    }
}
