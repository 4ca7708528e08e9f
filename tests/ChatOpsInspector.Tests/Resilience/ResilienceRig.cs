using ChatOpsInspector.Alerts;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ChatOpsInspector.Tests.Resilience;

internal static class ResilienceRig
{
    /// <summary>The real bot on Redis, posting through <paramref name="chat"/>; <paramref name="prefix"/> shared by replicas.</summary>
    public static TestApp Bot(string redis, string prefix, FlakyChatApi chat, Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["State:Redis"] = redis,
            ["State:KeyPrefix"] = prefix,
        };
        foreach (var (k, v) in more ?? [])
        {
            settings[k] = v;
        }
        return new TestApp(settings, s => s.AddSingleton<IChatAdapter>(new HttpTestChatAdapter(chat)));
    }

    /// <summary>Finding number <paramref name="i"/>, in group <c>i % groups</c> (one CVE per group).</summary>
    public static string Event(string run, int i, int groups, DateTimeOffset? updatedAt = null) =>
        FindingEvents.Ec2($"{run}-{i}", cve: $"CVE-2026-{5000 + i % groups}", instanceId: $"i-{i:x17}", updatedAt: updatedAt).ToJsonString();

    public static string Arn(string run, int i) => FindingEvents.Arn($"{run}-{i}");

    /// <summary>Posts until the bot accepts, as EventBridge redelivers on 503 and on no answer.</summary>
    public static async Task<List<int>> SendUntilAcceptedAsync(TestApp app, string json, TimeSpan giveUp)
    {
        var seen = new List<int>();
        var deadline = DateTime.UtcNow + giveUp;
        while (true)
        {
            int status;
            try
            {
                status = (int)(await app.PostEventsAsync(json)).StatusCode;
            }
            catch (HttpRequestException)
            {
                status = 0;
            }
            seen.Add(status);
            if (status is not (503 or 0) || DateTime.UtcNow > deadline)
            {
                return seen;
            }
            await Task.Delay(100);
        }
    }
}
