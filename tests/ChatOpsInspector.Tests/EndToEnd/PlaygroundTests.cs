using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Tests.Infrastructure;
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

    private TestApp _app = null!;
    private Process _playground = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private IPage _page = null!;
    private int _shot;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_artifacts);
        // Development: appsettings.Development.json turns local Teams mode on and routes to the Playground's team.
        _app = new TestApp(new() { ["Logging:LogLevel:Default"] = "Warning" }, environment: "Development");
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
        start.Environment["M365_AGENTS_PLAYGROUND_CONFIG_PATH"] = Path.Combine(Fixtures.FindSolutionDir(), "manifests", "teams", "playground", "playground.yml");
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

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = BrowserArgs });
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
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }
        _playwright?.Dispose();
        if (_playground is { HasExited: false })
        {
            _playground.Kill(entireProcessTree: true);
            await _playground.WaitForExitAsync();
        }
        _playground?.Dispose();
        await _app.DisposeAsync();
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
    public async Task ANewcomerSeesAProactiveCardAcknowledgesItSuppressesWithTheFormAndGetsAPatchApprovedBySomeoneElse()
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
        await flask.GetByRole(AriaRole.Button, new() { Name = "Suppress" }).ClickAsync();
        await flask.GetByRole(AriaRole.Button, new() { Name = "Suppress", Exact = true }).ClickAsync();
        await flask.GetByText("A reason is required.").WaitForAsync();
        Assert.Null((await GroupAsync("CVE-2023-30861")).Workflow.Suppression);
        await ShotAsync("suppress-form-refused-without-reason");
        await flask.Locator("textarea").First.FillAsync("Compensating control: function has no public trigger");
        await flask.GetByRole(AriaRole.Button, new() { Name = "Suppress", Exact = true }).ClickAsync();
        await flask.GetByText("Suppressed by Alex Wilber", new() { Exact = false }).First.WaitForAsync();
        await ShotAsync("suppressed");
        // Recorded with its reason; the Inspector filter that follows needs AWS, which this test does not have (Aws:Inspector2:ServiceUrl is a closed port).
        Assert.Contains((await GroupAsync("CVE-2023-30861")).Workflow.History, h => h.Action.StartsWith("Suppressed", StringComparison.Ordinal)
            && h.Actor.DisplayName == "Alex Wilber" && h.Detail?.Contains("no public trigger", StringComparison.Ordinal) == true);
    }
}
