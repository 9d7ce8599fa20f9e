namespace Miaoya.Limits.Tests;

/// <summary>A fact about Linux files (<c>/dev/zero</c>, <c>/proc</c>): skipped with the reason elsewhere.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "needs Linux (/dev/zero, /proc)";
        }
    }
}
