namespace Miaoya.WebUi; internal static class Placeholder { }
