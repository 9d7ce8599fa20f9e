namespace Miaoya.Imaging.Tests;

/// <summary>A fact about Linux files and modes: skipped with the reason elsewhere.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "needs Linux (/dev/zero, Unix file modes)";
        }
    }
}
