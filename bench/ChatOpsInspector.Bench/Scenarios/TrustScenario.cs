using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ChatOpsInspector.Bench.Harness;

namespace ChatOpsInspector.Bench.Scenarios;

/// <summary>
/// The attacks of the trust-boundary review ("What was seen" 1–10), replayed against a running bot on
/// loopback: each row names the attack, the answer the bot promises (status, refusal text) and what it
/// did. Bounded: a few hundred requests plus the metrics-label flood (20,000 events with --quick,
/// 100,000 otherwise). Teams activities are signed by <see cref="FakeBotFramework"/>; the approvals of
/// 1, 2 and 5 need a pending patch (fake SSM), which the bench lacks: their tests in the suite are named.
/// </summary>
internal static class TrustScenario
{
    private const string Cve = "CVE-2026-77001";
    private const string Owner = "app01";
    private const string Outsider = "U0OUTSIDER";
    private const string AuditKey = "bench-audit-key-0d5c1a8e6b4f4b7e9a3c2f1e0d9c8b7a";
    private const string BasicUser = "eventbridge";
    private const string BasicPassword = "bench-basic-password-4f1c";
    private const string RedisSecret = "bench-redis-secret-77q";
    private const string NotVisibleOwner = "Application not found or not visible to you";
    private const string NotVisibleAlert = "Alert not found or not visible to you.";

    public static async Task<Report> RunAsync(BenchOptions options)
    {
        var report = new Report("trust");
        var flood = options.Count ?? (options.Quick ? 20_000 : 100_000);
        var cap = options.Cap ?? TimeSpan.FromSeconds(240);
        await using var rig = await Rig.StartAsync();
        var bot = await rig.StartBotAsync(new()
        {
            ["Audit:ApiKey"] = AuditKey,
            ["Ingest:BasicUser"] = BasicUser,
            ["Ingest:BasicPassword"] = BasicPassword,
        });
        using var http = Load.Client(16);

        var spec = new FindingSpec("trust-seed", Cve, "i-0000000000000f001", Owner, Padding: 600);
        Expect(await Rig.PostEventAsync(http, bot.BaseUrl, Events.Bytes(spec)) == 202, "seed finding accepted");
        Expect(await WaitAsync(() => rig.IsStoredAsync(Events.Arn("trust-seed")), TimeSpan.FromSeconds(15)), "seed finding stored");
        var group = ChatOpsInspector.Alerts.GroupIds.For(Owner, Cve);

        await ReadAuthorizationAsync(report, rig, bot, http, group);
        await ApproveWithoutRequestIdAsync(report, rig, bot, http, group);
        await IngestValidationAsync(report, rig, bot, http);
        await MetricsFloodAsync(report, bot, http, flood, cap);
        await SecretsInLogsAsync(report, rig, http);
        await AuditAndStoreAsync(report, rig, bot, http, group);

        await TeamsAsync(report, rig, http);
        foreach (var (what, tests) in new[]
        {
            ("1/2/5. approvals across tenants and platforms (needs a pending patch, i.e. fake SSM)", "CrossPlatformIdentityTests, TeamsPatchApprovalTests"),
        })
        {
            report.Add(what, "not replayed here", $"refused; see {tests}");
        }
        report.Check("bot still up at the end", await HealthyAsync(http, bot) ? "yes" : "no", "yes", await HealthyAsync(http, bot));
        report.Note("Slack workspace T0BENCH is allowed; the outsider U0OUTSIDER is none of app01's people, not on the security team, and asks from a DM or app02's channel.");
        return report;
    }

    /// <summary>1, 2, 4: activities from another tenant or channel, and every token question that once failed open.</summary>
    private static async Task TeamsAsync(Report report, Rig rig, HttpClient http)
    {
        await using var bf = await FakeBotFramework.StartAsync();
        var bot = await rig.StartBotAsync(bf.Settings());
        const string member = "b15a9416-0ad3-4172-9210-7beb711d3f70";
        JsonObject Help() => bf.Mention("help", member);
        var cases = new (string Name, JsonObject Activity, string Token)[]
        {
            ("1. activity from another Entra tenant (both tenant fields)", Tenant(Help(), FakeBotFramework.ForeignTenantId, FakeBotFramework.ForeignTenantId), bf.Token(bf.Teams)),
            ("2. channelId webchat, token from a key endorsed for webchat only", Channel(Help(), "webchat"), bf.Token(bf.WebChat)),
            ("2. channelId webchat, token from the msteams key", Channel(Help(), "webchat"), bf.Token(bf.Teams)),
            ("4. token signed by a key with no endorsements", Help(), bf.Token(bf.Unendorsed)),
            ("4. token whose kid is not in the key set", Help(), bf.Token(bf.Unpublished)),
            ("4. activity with no channelId", Channel(Help(), null), bf.Token(bf.Teams)),
            ("4. conversation.tenantId ≠ channelData.tenant.id", Tenant(Help(), FakeBotFramework.TenantId, FakeBotFramework.ForeignTenantId), bf.Token(bf.Teams)),
        };
        foreach (var (name, activity, token) in cases)
        {
            var status = await MessageAsync(http, bot, activity, token);
            report.Check(name, status, "401 or 403", status is 401 or 403);
        }
        await Task.Delay(1000);
        var refusedCalls = bf.ConnectorCalls;
        var control = await MessageAsync(http, bot, Help(), bf.Token(bf.Teams));
        var answered = await WaitAsync(() => Task.FromResult(bf.ConnectorCalls > refusedCalls), TimeSpan.FromSeconds(15));
        report.Check("1/2/4. connector calls caused by the refused activities", refusedCalls, "0", refusedCalls == 0);
        report.Check("1/2/4. control: the same help from this tenant, msteams, endorsed key", $"{control}, answered: {(answered ? "yes" : "no")}", "200, answered", control == 200 && answered);
        bot.Kill();
    }

    private static JsonObject Tenant(JsonObject activity, string conversationTenant, string channelDataTenant)
    {
        activity["conversation"]!["tenantId"] = conversationTenant;
        activity["channelData"]!["tenant"]!["id"] = channelDataTenant;
        return activity;
    }

    private static JsonObject Channel(JsonObject activity, string? channelId)
    {
        if (channelId is null)
        {
            activity.Remove("channelId");
        }
        else
        {
            activity["channelId"] = channelId;
        }
        return activity;
    }

    private static async Task<int> MessageAsync(HttpClient http, BotProcess bot, JsonObject activity, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, bot.BaseUrl + "api/messages")
        {
            Content = new StringContent(activity.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        return (int)response.StatusCode;
    }

    /// <summary>3: /vulns and buttons from a DM, a foreign workspace, another owner's channel; @mentions in a thread.</summary>
    private static async Task ReadAuthorizationAsync(Report report, Rig rig, BotProcess bot, HttpClient http, string group)
    {
        var dm = await CommandAsync(rig, bot, http, Outsider, Owner, "D0OUTSIDER1");
        var missing = await CommandAsync(rig, bot, http, Outsider, "nosuchapp", "D0OUTSIDER1");
        report.Check("3. /vulns OTHER-OWNER in a DM", Describe(dm), $"200, \"{NotVisibleOwner}\", no alert",
            dm.Status == 200 && dm.Text.Contains(NotVisibleOwner, StringComparison.Ordinal) && !dm.Text.Contains(Cve, StringComparison.Ordinal));
        report.Check("3. … byte-identical to /vulns nosuchapp", dm.Text == missing.Text ? "identical" : "differs", "identical", dm.Text == missing.Text);
        var owners = Events.Apps.Where(a => missing.Text.Contains(a, StringComparison.Ordinal)).ToArray();
        report.Check("3. unknown-owner reply lists owners", owners.Length, "0", owners.Length == 0);

        var foreign = await CommandAsync(rig, bot, http, Outsider, Owner, Events.ChannelOf(Owner), team: "T0FOREIGN1");
        report.Check("3. /vulns OWNER from a foreign team_id", Describe(foreign), "403, no alert",
            foreign.Status == 403 && !foreign.Text.Contains(Cve, StringComparison.Ordinal));

        var share = await CommandAsync(rig, bot, http, Outsider, Owner + " --share", Events.ChannelOf("app02"));
        report.Check("3. /vulns OWNER --share by a guest in an unrelated channel", Describe(share), "private refusal, no alert",
            share.Text.Contains(NotVisibleOwner, StringComparison.Ordinal) && !share.Text.Contains(Cve, StringComparison.Ordinal) && !share.Text.Contains("in_channel", StringComparison.Ordinal));

        // The seed's card is posted by the dispatcher; let it finish so that every later post is the mention's.
        await rig.WaitDrainedAsync(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1));
        var ephemeral0 = rig.Slack.Methods.GetValueOrDefault("chat.postEphemeral");
        var posts0 = rig.Slack.Methods.GetValueOrDefault("chat.postMessage");
        var mention = await MentionAsync(bot, http, "U0MEMBER01", $"<@U0BOT> vulns {Owner}", Events.ChannelOf(Owner));
        var answered = await WaitAsync(() => Task.FromResult(rig.Slack.Methods.GetValueOrDefault("chat.postEphemeral") > ephemeral0), TimeSpan.FromSeconds(10));
        var publicPosts = rig.Slack.Methods.GetValueOrDefault("chat.postMessage") - posts0;
        report.Check("3. @bot vulns NAME in a channel thread", $"{mention}; ephemeral answers {(answered ? 1 : 0)}, public posts {publicPosts}", "answered with chat.postEphemeral, 0 public posts",
            answered && publicPosts == 0);

        var actions = new[] { "ack", "assign", "suppress", "patch" };
        var identical = 0;
        foreach (var action in actions)
        {
            var onHidden = await ClickAsync(rig, bot, http, Outsider, action, group, Events.ChannelOf("app02"));
            var onMissing = await ClickAsync(rig, bot, http, Outsider, action, ChatOpsInspector.Alerts.GroupIds.For(Owner, "CVE-2026-0000000"), Events.ChannelOf("app02"));
            if (onHidden is not null && onHidden == onMissing && onHidden.Contains(NotVisibleAlert, StringComparison.Ordinal))
            {
                identical++;
            }
        }
        report.Check("3. ack/assign/suppress/patch buttons on another owner's group from another channel", $"{identical}/{actions.Length} refused, identical to a missing group",
            $"{actions.Length}/{actions.Length}, \"{NotVisibleAlert}\"", identical == actions.Length);
        var acks = (await InteractionsScenario.AuditAsync(rig)).Count(a => a.GroupId == group);
        report.Check("3. audit records of those attempts", acks, "0", acks == 0);
    }

    /// <summary>6: an approve button whose value carries no patch-request id.</summary>
    private static async Task ApproveWithoutRequestIdAsync(Report report, Rig rig, BotProcess bot, HttpClient http, string group)
    {
        var answer = await ClickAsync(rig, bot, http, "UAPPROVER", "approve", group, Events.ChannelOf(Owner)) ?? "(no answer)";
        var state = await GroupStateAsync(rig, group);
        report.Check("6. approve button without the patch-request id", $"\"{Cut(Text(answer))}\"; group {state}", "refused, nothing approved",
            !answer.Contains("approved", StringComparison.OrdinalIgnoreCase) && state is "New" or "");
    }

    /// <summary>7: forged ingest values, and a batch whose second event is bad.</summary>
    private static async Task IngestValidationAsync(Report report, Rig rig, BotProcess bot, HttpClient http)
    {
        static string With(string id, Func<string, string> change) => change(Events.Json(new FindingSpec(id, "CVE-2026-77002", "i-0000000000000f002", Owner, Padding: 10)));
        var far = "Fri Dec 31 23:59:59.000 UTC 9999";
        var cases = new (string Name, string Body, string Id)[]
        {
            ("updatedAt year 9999 (was 500)", With("t7-a", j => j.Replace(Events.Stamp(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero)), far, StringComparison.Ordinal)), "t7-a"),
            ("[good, year-9999] batch (good one was stored)", "[" + With("t7-good", j => j) + "," + With("t7-b", j => j.Replace(Events.Stamp(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero)), far, StringComparison.Ordinal)) + "]", "t7-good"),
            ("awsAccountId \"=1+1\"", With("t7-c", j => j.Replace("\"awsAccountId\":\"123456789012\"", "\"awsAccountId\":\"=1+1\"", StringComparison.Ordinal)), "t7-c"),
            ("finding ARN \"arn:\"", With("t7-d", j => j.Replace("\"findingArn\":\"arn:aws:inspector2:eu-central-1:123456789012:finding/" + Events.FindingHex("t7-d") + "\"", "\"findingArn\":\"arn:\"", StringComparison.Ordinal)), "t7-d"),
            ("inspectorScore 1e308", With("t7-e", j => j.Replace("\"inspectorScore\":9.8", "\"inspectorScore\":1e308", StringComparison.Ordinal)), "t7-e"),
            ("duplicate JSON key", With("t7-f", j => j.Replace("\"severity\":\"CRITICAL\"", "\"severity\":\"CRITICAL\",\"severity\":\"LOW\"", StringComparison.Ordinal)), "t7-f"),
            ("malformed instance id i-0abc", With("t7-g", j => j.Replace("i-0000000000000f002", "i-0abc", StringComparison.Ordinal)), "t7-g"),
        };
        foreach (var (name, body, id) in cases)
        {
            var status = await Rig.PostEventAsync(http, bot.BaseUrl, Encoding.UTF8.GetBytes(body));
            var stored = await rig.IsStoredAsync(Events.Arn(id)) || await rig.IsStoredAsync(Events.Arn(id.Replace("good", "b", StringComparison.Ordinal)));
            report.Check($"7. {name}", $"{status}, stored: {(stored ? "yes" : "no")}", "400, nothing stored", status == 400 && !stored);
        }
    }

    /// <summary>8: one label per distinct detail-type took memory from 110 to 286 MB and the scrape to 25 MB.</summary>
    private static async Task MetricsFloodAsync(Report report, BotProcess bot, HttpClient http, int count, TimeSpan cap)
    {
        var run = Guid.NewGuid().ToString("n")[..8];
        Task<int> Send(int i) => Rig.PostEventAsync(http, bot.BaseUrl, Encoding.UTF8.GetBytes(
            $$$"""{"version":"0","id":"{{{Guid.NewGuid()}}}","detail-type":"Flood {{{run}}} {{{i}}}","source":"aws.inspector2","account":"123456789012","time":"2026-11-27T12:00:00Z","region":"eu-central-1","resources":[],"detail":{}}"""));
        // A first 1,000 brings every series the flood touches into the scrape (request histograms and the
        // like appear on first use); what the next N add is what a label per detail-type would cost.
        await Load.RunAsync(1_000, 32, cap, i => Send(-1 - i));
        await Task.Delay(500);
        var (scrape0, labels0, families0) = await ScrapeAsync(http, bot);
        var rss0 = bot.WorkingSetBytes();
        var result = await Load.RunAsync(count, 32, cap, Send);
        await Task.Delay(1000);
        var (scrape1, labels1, families1) = await ScrapeAsync(http, bot);
        var grown = families1.Select(f => (f.Key, Added: f.Value - families0.GetValueOrDefault(f.Key))).Where(f => f.Added > 0).OrderByDescending(f => f.Added).Take(4).ToArray();
        var rss1 = bot.WorkingSetBytes();
        report.Add("8. unique detail-type events sent", $"{result.Done:#,0} ({result.StatusText}, {result.PerSecond:#,0}/s)", "202, ignored and counted");
        report.Check("8. detail_type label values of coi_events_received_total, before → after", $"{labels0} → {labels1}", "unchanged (closed set)", labels1 == labels0);
        // Histograms of ASP.NET Core and HttpClient gain a series when a label combination (status code,
        // route) is first seen; that is bounded. A label per detail-type would add one series per event.
        var added = families1.Sum(f => Math.Max(0, f.Value - families0.GetValueOrDefault(f.Key)));
        report.Add("8. /metrics scrape before → after (KB)", $"{scrape0 / 1024.0:0.0} → {scrape1 / 1024.0:0.0}", "was 25 MB after 100,000");
        report.Check("8. series added by the flood", added, $"≤ 100 (one per detail-type would be {result.Done:#,0})", added <= 100);
        report.Add("8. series added by the flood, by family", grown.Length == 0 ? "none" : string.Join(", ", grown.Select(f => $"{f.Key} +{f.Added}")));
        report.Check("8. bot working set before → after (MB)", $"{rss0 / 1048576.0:0} → {rss1 / 1048576.0:0}", "grows < 50 MB (was 110 → 286)", rss1 - rss0 < 50L * 1048576);
    }

    /// <summary>9: response_urls and a Redis password in the logs of a bot started elsewhere at Debug.</summary>
    private static async Task SecretsInLogsAsync(Report report, Rig rig, HttpClient http)
    {
        var elsewhere = Directory.CreateTempSubdirectory("coi-bench-cwd-").FullName;
        var debug = new Dictionary<string, string>
        {
            ["Logging:LogLevel:Default"] = "Debug",
            ["Logging:LogLevel:Microsoft"] = "Debug",
        };
        await using var talker = new BotProcess(rig.Settings(debug), null) { WorkingDirectory = elsewhere, KeepAllLines = true };
        await talker.StartAsync();
        var secretUrl = "secret-response-" + Guid.NewGuid().ToString("n");
        var command = InteractionsScenario.SlashCommand(Outsider, Owner, rig.Slack.ResponseUrl(secretUrl), "trig-" + secretUrl);
        using (var request = SlackSigner.Request(talker.BaseUrl + "api/slack/commands", command))
        {
            using var _ = await http.SendAsync(request);
        }
        var ack = "payload=" + Uri.EscapeDataString(InteractionsScenario.BlockAction(Outsider, "0123456789abcdef0123456789abcdef", "CAPP02", rig.Slack.ResponseUrl(secretUrl + "-b"), "trig-b-" + secretUrl));
        using (var request = SlackSigner.Request(talker.BaseUrl + "api/slack/interactions", ack))
        {
            using var _ = await http.SendAsync(request);
        }
        await Task.Delay(2000);

        var port = RedisProcess.FreePort();
        var withPassword = rig.Settings(debug);
        withPassword["State:Redis"] = $"127.0.0.1:{port},password={RedisSecret},abortConnect=false,connectTimeout=500";
        await using var broken = new BotProcess(withPassword, null) { WorkingDirectory = elsewhere, KeepAllLines = true };
        await broken.StartAsync();
        using (var _ = await http.GetAsync(broken.BaseUrl + "readyz"))
        {
        }
        await Rig.PostEventAsync(http, broken.BaseUrl, Events.Bytes(Events.Distinct("t9", 1)));
        await Task.Delay(3000);

        var urlLeaks = talker.AllLines.Count(l => l.Contains(secretUrl, StringComparison.Ordinal));
        var passwordLeaks = broken.AllLines.Count(l => l.Contains(RedisSecret, StringComparison.Ordinal));
        report.Check("9. response_url in Debug logs of a bot started from another directory", $"{urlLeaks} of {talker.AllLines.Count:#,0} lines", "0", urlLeaks == 0);
        report.Check("9. rediss password in connection-error logs", $"{passwordLeaks} of {broken.AllLines.Count:#,0} lines", "0", passwordLeaks == 0);
        Directory.Delete(elsewhere, true);
    }

    /// <summary>10: audit export with the ingest Basic pair, group id width, an ACL user without scripting.</summary>
    private static async Task AuditAndStoreAsync(Report report, Rig rig, BotProcess bot, HttpClient http, string group)
    {
        using (var basic = new HttpRequestMessage(HttpMethod.Get, bot.BaseUrl + "api/audit?format=csv"))
        {
            basic.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{BasicUser}:{BasicPassword}")));
            using var response = await http.SendAsync(basic);
            report.Check("10. /api/audit with the EventBridge Basic credentials", (int)response.StatusCode, "401", response.StatusCode == HttpStatusCode.Unauthorized);
        }
        using (var keyed = new HttpRequestMessage(HttpMethod.Get, bot.BaseUrl + "api/audit?format=csv"))
        {
            keyed.Headers.Add("X-Api-Key", AuditKey);
            using var response = await http.SendAsync(keyed);
            report.Add("10. /api/audit with Audit:ApiKey (the other preconditions hold)", (int)response.StatusCode, "200");
        }
        report.Check("10. group id width (bits)", group.Length * 4, "≥ 96", group.Length * 4 >= 96);

        var server = await rig.Redis.ServerAsync();
        var user = "noscript" + Guid.NewGuid().ToString("n")[..6];
        await server.ExecuteAsync("ACL", "SETUSER", user, "on", ">noscript-pass", "~*", "&*", "+@all", "-@scripting");
        var settings = new Dictionary<string, string> { ["State:User"] = user, ["State:Password"] = "noscript-pass" };
        var limited = await rig.StartBotAsync(settings);
        var ready = 0;
        for (var i = 0; i < 20 && ready == 0; i++)
        {
            using var response = await http.GetAsync(limited.BaseUrl + "readyz");
            ready = response.StatusCode == HttpStatusCode.ServiceUnavailable ? 503 : 0;
            if (ready == 0)
            {
                await Task.Delay(250);
            }
        }
        var ingest = await Rig.PostEventAsync(http, limited.BaseUrl, Events.Bytes(Events.Distinct("t10", 1)));
        report.Check("10. Redis ACL user without scripting: /readyz, ingest", $"{(ready == 503 ? 503 : 200)}, {ingest}", "503, 503", ready == 503 && ingest == 503);
        limited.Kill();
    }

    private sealed record Answer(int Status, string Text);

    private static string Describe(Answer a) => $"{a.Status}, \"{Cut(Text(a.Text))}\"";

    private static async Task<Answer> CommandAsync(Rig rig, BotProcess bot, HttpClient http, string user, string text, string channel, string team = "T0BENCH")
    {
        var id = "t3-" + Guid.NewGuid().ToString("n");
        var body = InteractionsScenario.SlashCommand(user, text, rig.Slack.ResponseUrl(id), "trig-" + id)
            .Replace("channel_id=" + Uri.EscapeDataString(Events.ChannelOf(text)), "channel_id=" + Uri.EscapeDataString(channel), StringComparison.Ordinal)
            .Replace("team_id=T0BENCH", "team_id=" + team, StringComparison.Ordinal);
        using var request = SlackSigner.Request(bot.BaseUrl + "api/slack/commands", body);
        using var response = await http.SendAsync(request);
        var content = await response.Content.ReadAsStringAsync();
        if (content.Length == 0 && response.IsSuccessStatusCode)
        {
            await WaitAsync(() => Task.FromResult(rig.Slack.ResponseTo(id) is not null), TimeSpan.FromSeconds(10));
            content = rig.Slack.ResponseTo(id) ?? "";
        }
        return new Answer((int)response.StatusCode, content);
    }

    private static async Task<string?> ClickAsync(Rig rig, BotProcess bot, HttpClient http, string user, string action, string group, string channel)
    {
        var id = "t3c-" + Guid.NewGuid().ToString("n");
        var payload = JsonNode.Parse(InteractionsScenario.BlockAction(user, group, channel, rig.Slack.ResponseUrl(id), "trig-" + id))!;
        payload["actions"]![0]!["action_id"] = action + ":" + group;
        using var request = SlackSigner.Request(bot.BaseUrl + "api/slack/interactions", "payload=" + Uri.EscapeDataString(payload.ToJsonString()));
        using var _ = await http.SendAsync(request);
        await WaitAsync(() => Task.FromResult(rig.Slack.ResponseTo(id) is not null), TimeSpan.FromSeconds(10));
        return rig.Slack.ResponseTo(id);
    }

    private static async Task<string> MentionAsync(BotProcess bot, HttpClient http, string user, string text, string channel)
    {
        var body = new JsonObject
        {
            ["type"] = "event_callback",
            ["team_id"] = "T0BENCH",
            ["api_app_id"] = "A0BENCH",
            ["event_id"] = "Ev" + Guid.NewGuid().ToString("n")[..10],
            ["event_time"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["event"] = new JsonObject
            {
                ["type"] = "app_mention",
                ["user"] = user,
                ["text"] = text,
                ["channel"] = channel,
                ["ts"] = "1700000100.000200",
                ["thread_ts"] = "1700000000.000100",
            },
        }.ToJsonString();
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, bot.BaseUrl + "api/slack/events")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Slack-Request-Timestamp", ts.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("X-Slack-Signature", SlackSigner.Sign(body, ts));
        using var response = await http.SendAsync(request);
        return ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
    }

    private static async Task<string> GroupStateAsync(Rig rig, string group)
    {
        var db = await rig.DbAsync();
        var wf = (string?)await db.HashGetAsync(Rig.Keys.Group(group), "wf");
        if (string.IsNullOrEmpty(wf) || wf == "{}")
        {
            return "New";
        }
        return JsonNode.Parse(wf)?["State"]?.ToString() ?? JsonNode.Parse(wf)?["state"]?.ToString() ?? "New";
    }

    /// <summary>The scrape's size, how many detail_type series coi_events_received_total has, and the series count per family.</summary>
    private static async Task<(long Bytes, int Labels, Dictionary<string, int> Families)> ScrapeAsync(HttpClient http, BotProcess bot)
    {
        var bytes = await http.GetByteArrayAsync(bot.BaseUrl + "metrics");
        var lines = Encoding.UTF8.GetString(bytes).Split('\n').Where(l => l.Length > 0 && l[0] != '#').ToArray();
        var labels = lines.Count(l => l.StartsWith("coi_events_received_total{", StringComparison.Ordinal));
        var families = lines.GroupBy(l => l.Split('{', ' ')[0]).ToDictionary(g => g.Key, g => g.Count());
        return (bytes.LongLength, labels, families);
    }

    private static async Task<bool> HealthyAsync(HttpClient http, BotProcess bot)
    {
        try
        {
            using var response = await http.GetAsync(bot.BaseUrl + "healthz");
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static async Task<bool> WaitAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }
            await Task.Delay(100);
        }
        return false;
    }

    private static void Expect(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException("trust scenario set-up failed: " + what);
        }
    }

    /// <summary>The "text" of a Slack JSON answer, else the body itself.</summary>
    private static string Text(string body)
    {
        try
        {
            return JsonNode.Parse(body)?["text"]?.GetValue<string>() ?? body;
        }
        catch (System.Text.Json.JsonException)
        {
            return body;
        }
    }

    private static string Cut(string text) => text.Length <= 80 ? text : text[..79] + "…";
}
