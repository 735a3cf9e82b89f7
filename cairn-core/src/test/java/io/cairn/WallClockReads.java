package io.cairn;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaAccess;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.conditions.ArchConditions;

/**
 * What reading the time of day looks like in bytecode, for the architecture rules of every module
 * (cairn-core's, and cairn-server's for its cluster protocol code): one definition, so a way of
 * reading the clock added here is forbidden everywhere at once.
 *
 * <p>A monotonic reading ({@code System.nanoTime}) is not a time of day and is not in here; each
 * rule says whether it allows one.
 */
public final class WallClockReads {
    private WallClockReads() {}

    /** Classes that read the wall clock: the JDK's clocks, {@code now()} on java.time, legacy dates and calendars. */
    public static ArchCondition<JavaClass> readTheWallClock() {
        return ArchConditions.callMethod(System.class, "currentTimeMillis")
                .or(ArchConditions.callMethodWhere(nowOnJavaTime()))
                .or(ArchConditions.dependOnClassesThat(DescribedPredicate.describe("are java.time.Clock or java.time.InstantSource",
                        c -> c.getFullName().equals("java.time.Clock") || c.getFullName().equals("java.time.InstantSource"))))
                .or(ArchConditions.callConstructor(java.util.Date.class))
                .or(ArchConditions.callConstructor(java.util.GregorianCalendar.class))
                .or(ArchConditions.callMethodWhere(DescribedPredicate.describe("call Calendar.getInstance", access ->
                        access.getName().equals("getInstance") && access.getTargetOwner().isAssignableTo(java.util.Calendar.class))))
                .as("read the wall clock");
    }

    private static DescribedPredicate<JavaAccess<?>> nowOnJavaTime() {
        return DescribedPredicate.describe("call now() on a java.time class", access ->
                access.getName().equals("now") && access.getTargetOwner().getPackageName().equals("java.time"));
    }
}
