namespace Miaoya.Pipeline; internal static class Placeholder { }
