using System.Text.Json.Nodes;
using ChatOpsInspector.Slack;

namespace ChatOpsInspector.Tests.Slack;

public class SlackModalsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static JsonObject Values(string? reason = "accepted risk", string? days = "30", string? date = null) => new()
    {
        ["reason"] = new JsonObject { ["reason"] = new JsonObject { ["type"] = "plain_text_input", ["value"] = reason } },
        ["expiry"] = new JsonObject { ["expiry"] = new JsonObject { ["type"] = "static_select", ["selected_option"] = days is null ? null : new JsonObject { ["value"] = days } } },
        ["until"] = new JsonObject { ["until"] = new JsonObject { ["type"] = "datepicker", ["selected_date"] = date } },
    };

    [Fact]
    public void SuppressForAChosenNumberOfDays()
    {
        var (reason, expires, errors) = SlackModals.ReadSuppress(Values(days: "90"), Now);
        Assert.Empty(errors);
        Assert.Equal("accepted risk", reason);
        Assert.Equal(Now.AddDays(90), expires);
    }

    [Fact]
    public void DateOverridesTheDurationAndLastsToTheEndOfThatDay()
    {
        var (_, expires, errors) = SlackModals.ReadSuppress(Values(date: "2026-12-24"), Now);
        Assert.Empty(errors);
        Assert.Equal(new DateTimeOffset(2026, 12, 24, 23, 59, 59, TimeSpan.Zero), expires!.Value.AddTicks(-9_999_999));
    }

    [Theory]
    [InlineData("2026-11-27")]
    [InlineData("2020-01-01")]
    public void DateInThePastOrTodayIsAFieldError(string date)
    {
        var (_, _, errors) = SlackModals.ReadSuppress(Values(date: date), Now);
        Assert.Equal(["until"], errors.Keys);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("   ")]
    public void MissingReasonIsAFieldError(string? reason)
    {
        var (_, _, errors) = SlackModals.ReadSuppress(Values(reason: reason), Now);
        Assert.Equal(["reason"], errors.Keys);
    }

    [Fact]
    public void UnofferedDurationIsAFieldError()
    {
        var (_, _, errors) = SlackModals.ReadSuppress(Values(days: "3650"), Now);
        Assert.Equal(["expiry"], errors.Keys);
    }

    [Fact]
    public void ErrorsAreAnsweredAsResponseActionErrors()
    {
        var json = SlackModals.Errors(new() { ["until"] = "Pick a date after today." });
        Assert.Equal("errors", json["response_action"]!.GetValue<string>());
        Assert.Equal("Pick a date after today.", json["errors"]!["until"]!.GetValue<string>());
    }

    [Fact]
    public void DialogsRememberTheGroupChannelAndResponseUrl()
    {
        var context = new SlackModals.Context("3f9a1c2b7d", "C0123456789", "https://hooks.slack.com/actions/T/1/x");
        var view = SlackModals.Suppress(null, context);
        Assert.Equal(context, SlackModals.ReadContext(view["private_metadata"]!.GetValue<string>()));
        Assert.Equal("coi_suppress", view["callback_id"]!.GetValue<string>());
        Assert.True(view["title"]!["text"]!.GetValue<string>().Length <= SlackLimits.ModalTitle);
        var assign = SlackModals.Assign(null, context);
        Assert.Equal("users_select", assign["blocks"]![1]!["element"]!["type"]!.GetValue<string>());
        Assert.Null(SlackModals.ReadContext("not json"));
    }
}
