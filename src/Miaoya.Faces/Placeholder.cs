namespace Miaoya.Faces; internal static class Placeholder { }
