using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ChatOpsInspector.Alerts;
using Amazon.Runtime;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Tests.Workflow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace ChatOpsInspector.Tests.EndToEnd;

/// <summary>
/// The README's "Try it" walk-through, driven in Microsoft 365 Agents Playground (npm
/// @microsoft/teams-app-test-tool, installed by .ci/run) through Debian's chromium: the real Teams test
/// client, its Adaptive Card renderer and its mock connector, against the bot in local Teams mode.
/// Needs node, /usr/bin/chromium and the Playground package; test.sh runs this category only then.
/// Screenshots of each step go to TestResults/playground/ (or $PLAYGROUND_ARTIFACTS).
/// </summary>
[Trait("Category", "Playground")]
public sealed class PlaygroundTests : IAsyncLifetime
{
    private const string Alerts = "Alerts";
    private static readonly string[] BrowserArgs =
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    private readonly string _artifacts = Environment.GetEnvironmentVariable("PLAYGROUND_ARTIFACTS")
        ?? Path.Combine(Fixtures.FindSolutionDir(), "TestResults", "playground");

    private const string SampleInstance = "i-12345678901234567";

    private FakeAws _aws = null!;
    private TestApp _app = null!;
    private Process _playground = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private IPage _page = null!;
    private int _shot;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_artifacts);
        _aws = await FakeAws.StartAsync();
        // The EC2 sample's instance, managed by SSM in the sample's account, as a patch needs.
        _aws.ManagedInstances[SampleInstance] = "Online";
        // Development: appsettings.Development.json turns local Teams mode on and routes to the Playground's team.
        // AWS is the signature-checking fake on loopback, so the approved patch really reaches SSM.
        _app = new TestApp(new()
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Aws:Region"] = "eu-central-1",
            ["Aws:Inspector2:ServiceUrl"] = _aws.Server.BaseUrl,
            ["Aws:Ssm:ServiceUrl"] = _aws.Server.BaseUrl,
        }, services => services.AddSingleton<AWSCredentials>(new BasicAWSCredentials("AKIDPLAYGROUNDE2E01", "secret/for/the/fake")), environment: "Development");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = BrowserArgs });
        await StartPlaygroundAsync("playground.yml");
    }

    /// <summary>
    /// Starts the Playground as the person its config file names (Playground 0.2.28 has one signed-in
    /// user a run, the config's <c>currentUser</c>) and opens its page in a fresh browser page.
    /// </summary>
    private async Task StartPlaygroundAsync(string config)
    {
        var bot = _app.Client().BaseAddress!;
        var port = FreePort();
        var cli = Environment.GetEnvironmentVariable("PLAYGROUND_CLI")
            ?? Path.Combine(Fixtures.FindSolutionDir(), ".tools", "playground", "node_modules", "@microsoft", "teams-app-test-tool", "cli.js");
        var start = new ProcessStartInfo("node", [cli, "start", "-e", new Uri(bot, "api/messages").ToString(), "-c", "msteams", "--dt", "-p", port.ToString()])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _artifacts,
        };
        start.Environment["M365_AGENTS_PLAYGROUND_CONFIG_PATH"] = Path.Combine(Fixtures.FindSolutionDir(), "manifests", "teams", "playground", config);
        start.Environment["M365_AGENTS_PLAYGROUND_LOGFILE"] = Path.Combine(_artifacts, "playground.log");
        start.Environment["TEAMSAPPTESTER_BROWSER"] = "none";
        _playground = Process.Start(start)!;
        _playground.BeginOutputReadLine();
        _playground.BeginErrorReadLine();
        var url = $"http://127.0.0.1:{port}/";
        using var http = new HttpClient();
        await TestApp.Eventually(async () =>
        {
            try
            {
                return (await http.GetAsync(url)).StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "the Playground to listen", 60_000);

        _page = await _browser.NewPageAsync(new() { ViewportSize = new() { Width = 1400, Height = 1600 } });
        // Generous: on a loaded CI machine the Playground, the bot and Chromium share two cores; a wait ends as soon as its element shows.
        _page.SetDefaultTimeout(90_000);
        // The Playground asks a CDN for fonts; there is no network here, and it renders without them.
        await _page.RouteAsync(u => !u.StartsWith("http://127.0.0.1", StringComparison.Ordinal) && !u.StartsWith("http://localhost", StringComparison.Ordinal), r => r.AbortAsync());
        await _page.GotoAsync(url, new() { WaitUntil = WaitUntilState.DOMContentLoaded, Timeout = 90_000 });
        // The Playground "installs" the bot when the page connects: the bot then knows the team's channels.
        await TestApp.Eventually(async () => await _page.GetByText("conversationUpdate 200").CountAsync() > 0, "the bot installed in the Playground", 60_000);
    }

    public async Task DisposeAsync()
    {
        await StopPlaygroundAsync();
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }
        _playwright?.Dispose();
        await _app.DisposeAsync();
        await _aws.DisposeAsync();
    }

    private async Task StopPlaygroundAsync()
    {
        if (_page is not null)
        {
            await _page.CloseAsync();
        }
        if (_playground is { HasExited: false })
        {
            _playground.Kill(entireProcessTree: true);
            await _playground.WaitForExitAsync();
        }
        _playground?.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task ShotAsync(string name) =>
        await _page.ScreenshotAsync(new() { Path = Path.Combine(_artifacts, $"{++_shot:00}-{name}.png"), FullPage = true });

    private ILocator Card(string cve) => _page.Locator("div.ac-adaptiveCard").Filter(new() { HasText = cve });

    private async Task<AlertGroup> GroupAsync(string cve) =>
        (await _app.Service<AlertQueries>().GroupsAsync("security", default)).Single(g => g.VulnerabilityId == cve);

    private async Task SayAsync(string text)
    {
        await _page.Locator("[contenteditable=true][role=textbox]").Last.ClickAsync();
        await _page.Keyboard.TypeAsync(text);
        await _page.Keyboard.PressAsync("Enter");
    }

    [Fact]
    public async Task ANewcomerSeesAProactiveCardAcknowledgesSuppressesAssignsAndGetsAPatchApprovedBySomeoneElse()
    {
        // 1. Proactive card into the team channel.
        await _page.GetByText(Alerts, new() { Exact = true }).ClickAsync();
        Assert.Equal(HttpStatusCode.Accepted, (await _app.Client().PostAsync("/dev/samples", null)).StatusCode);
        var snapd = Card("CVE-2024-29069");
        await snapd.GetByText("State: New").WaitForAsync();
        await Assertions.Expect(Card("CVE-2023-30861")).ToBeVisibleAsync();
        await ShotAsync("proactive-cards-in-channel");

        // 2. Acknowledge: the same card changes in place.
        await snapd.GetByRole(AriaRole.Button, new() { Name = "Ack" }).ClickAsync();
        await snapd.GetByText("Acknowledged by Alex Wilber").First.WaitForAsync();
        Assert.Equal(1, await snapd.CountAsync());
        Assert.Equal(0, await snapd.GetByRole(AriaRole.Button, new() { Name = "Ack" }).CountAsync());
        Assert.Equal("Alex Wilber", (await GroupAsync("CVE-2024-29069")).Workflow.AcknowledgedBy?.DisplayName);
        await ShotAsync("acknowledged-in-place");

        // 3. The suppressor's own view, then the Suppress form: refused empty by the card, then submitted.
        await _page.GetByText("Personal Chat", new() { Exact = true }).ClickAsync();
        await SayAsync("vulns security");
        var flask = Card("CVE-2023-30861");
        await flask.GetByRole(AriaRole.Button, new() { Name = "Suppress", Exact = true }).First.ClickAsync();
        await flask.GetByRole(AriaRole.Button, new() { Name = "Suppress", Exact = true }).Last.ClickAsync();
        await flask.GetByText("A reason is required.").WaitForAsync();
        Assert.Null((await GroupAsync("CVE-2023-30861")).Workflow.Suppression);
        await ShotAsync("suppress-form-refused-without-reason");
        await flask.Locator("textarea").First.FillAsync("Compensating control: function has no public trigger");
        await flask.GetByRole(AriaRole.Button, new() { Name = "Suppress", Exact = true }).Last.ClickAsync();
        await flask.GetByText("Suppressed by Alex Wilber", new() { Exact = false }).First.WaitForAsync();
        await ShotAsync("suppressed");
        // Recorded with its reason, and the Inspector suppression filter created in the fake Inspector2.
        Assert.Contains((await GroupAsync("CVE-2023-30861")).Workflow.History, h => h.Action.StartsWith("Suppressed", StringComparison.Ordinal)
            && h.Actor.DisplayName == "Alex Wilber" && h.Detail?.Contains("no public trigger", StringComparison.Ordinal) == true);
        await TestApp.Eventually(() => Task.FromResult(_aws.Server.Requests.Any(r => r.Path == "/filters/create")), "Inspector CreateFilter", 90_000);

        // 4. Assign from the picker: the card says who, and so does the stored group.
        var snapdMine = Card("CVE-2024-29069").Last;
        await snapdMine.GetByRole(AriaRole.Button, new() { Name = "Assign", Exact = true }).First.ClickAsync();
        await ShotAsync("assign-form");
        // The Playground draws a compact Input.ChoiceSet as a Fluent UI combobox with a listbox of options.
        await snapdMine.GetByRole(AriaRole.Combobox).First.ClickAsync();
        await _page.GetByRole(AriaRole.Option, new() { Name = "adelev@example.com" }).ClickAsync();
        await snapdMine.GetByRole(AriaRole.Button, new() { Name = "Assign", Exact = true }).Last.ClickAsync();
        await Card("CVE-2024-29069").Last.GetByText("Assigned to", new() { Exact = false }).First.WaitForAsync();
        var assignee = (await GroupAsync("CVE-2024-29069")).Workflow.AssignedTo;
        Assert.Contains("adelev@example.com", $"{assignee?.UserId} {assignee?.Email}", StringComparison.OrdinalIgnoreCase);
        await ShotAsync("assigned");

        // 5. Alex requests a patch; his own request offers him nothing to approve.
        await Card("CVE-2024-29069").Last.GetByRole(AriaRole.Button, new() { Name = "Patch", Exact = true }).ClickAsync();
        await Card("CVE-2024-29069").Last.GetByText("Patch requested", new() { Exact = false }).First.WaitForAsync();
        Assert.Equal(0, await Card("CVE-2024-29069").Last.GetByRole(AriaRole.Button, new() { Name = "Approve", Exact = true }).CountAsync());
        Assert.Empty(_aws.Ssm("SendCommand"));
        await ShotAsync("patch-requested-by-alex");

        // 6. Megan Bowen, an approver, opens the Playground as herself and approves: one SSM command for the instance.
        await StopPlaygroundAsync();
        await StartPlaygroundAsync("playground.approver.yml");
        await _page.GetByText("Personal Chat", new() { Exact = true }).ClickAsync();
        await SayAsync("vulns security");
        var approverView = Card("CVE-2024-29069").Last;
        await approverView.GetByRole(AriaRole.Button, new() { Name = "Approve", Exact = true }).ClickAsync();
        // Approve asks again before anything runs, with what will run.
        await _page.GetByRole(AriaRole.Button, new() { Name = "Confirm patch", Exact = true }).Last.ClickAsync();
        await ShotAsync("approve-pressed");
        await TestApp.Eventually(() => Task.FromResult(_aws.Commands.Values.Any(ids => ids.Contains(SampleInstance))), "SSM SendCommand for the sample instance", 90_000);
        Assert.Single(_aws.Commands.Values, ids => ids.Contains(SampleInstance));
        var approved = await GroupAsync("CVE-2024-29069");
        Assert.Contains(approved.Workflow.History, h => h.Actor.DisplayName == "Megan Bowen" && h.Action.Contains("pprov", StringComparison.Ordinal));
        await ShotAsync("patch-approved-by-megan");
    }
}
