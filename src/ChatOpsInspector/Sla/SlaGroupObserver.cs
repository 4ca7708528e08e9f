using ChatOpsInspector.Alerts;

namespace ChatOpsInspector.Sla;

/// <summary>Plans a group's SLA points as soon as the dispatcher sees it change, not at the next scan.</summary>
internal sealed class SlaGroupObserver(SlaScheduler scheduler) : IAlertGroupObserver
{
    public async Task OnGroupChangedAsync(AlertGroup group, CancellationToken cancellationToken)
    {
        if (group.Workflow.IsOpen)
        {
            await scheduler.PlanGroupAsync(group, cancellationToken);
        }
    }
}
